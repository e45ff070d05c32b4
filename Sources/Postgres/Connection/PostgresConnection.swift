import CLibPQ
import Foundation
import Support

/// One libpq connection with an async API that never blocks a thread of Swift's cooperative pool.
///
/// A connection serves one task at a time. Each operation claims it first and throws
/// ``PostgresConnectionError/Kind/busy`` if another task holds it; a pool hands a connection to one task at a time,
/// so that never happens there.
///
/// Its concerns live in files of their own, each an extension or a small type:
/// - opening: `PostgresConnection+Connect`
/// - statements, and pipelines of them: `+Statements`, `+Pipeline`, `PreparedStatementCache`
/// - `COPY … FROM STDIN`: `+Copy` (with ``CopyWriter``)
/// - waiting for the server: `+Socket` (with ``SocketReactor``)
/// - who may use the handle, closing and cancelling: `+Claim`, ``ConnectionClaim``, ``QueryCancellation``
/// - the state a pool asks about: `+Status`
/// - what errors say: `+Errors`
///
/// ## Threads and locks
///
/// The rules below hold for every part of this type and for ``CopyWriter``, ``QueryCancellation``,
/// ``SocketReactor`` and ``DedicatedThread``; those refer here rather than repeat them.
///
/// 1. **The libpq handle belongs to the claim holder.** `handle`, `broken` and `preparedStatements` are read and
///    written only by the task that holds the claim (``ConnectionClaim``, a `Locked`), or by `deinit`, which nothing
///    can race. The claim is taken and given back under that lock, so each holder sees what the previous one wrote.
///    It is never waited for: a task that finds it taken gets `busy` (or, from ``transactionStatus`` and
///    ``isUsable``, the answer for a connection in use). ``close()`` from another task only asks; the holder closes
///    the connection when it gives the claim back.
/// 2. **No blocking libpq call runs on the cooperative pool.** The pool's few threads are shared by every task in the
///    process, so one blocked thread stalls unrelated work. The handle is in non-blocking mode
///    (`PQsetnonblocking`), so the calls the claim holder makes on its task (`PQsend…`, `PQflush`, `PQconsumeInput`,
///    `PQisBusy`, `PQgetResult`, `PQputCopyData`, `PQputCopyEnd`, `PQfinish`'s goodbye) return at once; when one
///    would have to wait, the task suspends on the ``SocketReactor`` (one epoll thread for every connection) until
///    the socket is ready. The two calls that do block run on a ``DedicatedThread``: `PQconnectdbParams` (DNS, TLS,
///    authentication) and `PQcancel` (which opens a connection of its own). A task that prefers ``PostgresExecutor``
///    (a batch's query jobs do) makes these calls on the reactor's thread itself, where a blocking call would stall
///    every connection's wait, not only the pool's.
/// 3. **Other threads touch only locked state.** A task's cancellation handler, the cancel thread and its timer
///    share ``QueryCancellation``'s `Locked` state with the claim holder; the reactor's thread shares its waiter
///    table (a `Locked`) with the waiting tasks. They never touch the handle.
/// 4. **No lock is held across a suspension or a libpq call**, so a lock is only ever held for a few instructions.
///
/// `@unchecked Sendable`: by rule 1, the mutable state is guarded by the claim, ``ConnectionClaim``'s `Locked`.
public final class PostgresConnection: @unchecked Sendable {
    /// The masked URL of the database this connection reached.
    public let target: String
    /// The process id libpq was given for this connection (`PQbackendPID`, the key a cancel request names). On a
    /// direct connection it is the server's process (`pg_backend_pid()`, `pg_stat_activity.pid`); through a
    /// connection pooler such as PgBouncer it is the pooler's own key for this client, which no server process has.
    public let backendPID: Int32
    /// What `SELECT pg_backend_pid()` answered when the connection opened: the server process that ran it. Written
    /// once by ``connect(_:logger:)`` before it returns the connection, never afterwards, so any task may read it.
    public internal(set) var serverPIDAtConnect: Int32 = 0
    /// The client's end of the connection as `address:port` when it is TCP; nil for a unix socket. What a pooler's
    /// client list (PgBouncer's `SHOW CLIENTS`) names this connection by.
    public let localEndpoint: String?
    /// When the connection was opened.
    let openedAt: Date
    /// The server's version as an integer, e.g. `150018` for 15.18.
    let serverVersion: Int
    /// The server's version as it reports it, e.g. `15.18 (Debian 15.18-0+deb12u1)`.
    public let serverVersionText: String

    let handle: OpaquePointer
    let reactor: SocketReactor
    /// This connection's identity at the reactor, which can interrupt its wait from another thread.
    let owner: Int
    private static let nextOwnerID = Locked(0)
    let cancellation: QueryCancellation
    let configuration: ConnectionConfiguration
    /// Kept alive for libpq's notice receiver, which holds it unretained.
    let noticeSink: NoticeSink
    let claim = ConnectionClaim()
    /// Set when the connection failed in use.
    var broken = false
    var preparedStatements = PreparedStatementCache()

    /// Whether a connection pooler sits between this connection and the server: the server process that answered
    /// at connect is not the one libpq was told of. Through a pooler in transaction mode each transaction may run on
    /// another server connection, so nothing may rely on the session lasting, named prepared statements included.
    public var throughPooler: Bool { serverPIDAtConnect != backendPID }

    /// Whether statements are prepared under names and reused: when the configuration allows it
    /// (`prepared_statements`) and the connection is direct. Through a pooler a name prepared in one transaction
    /// may be missing (26000) or taken (42P05) on the server connection the next one lands on, so statements run
    /// unnamed there, which costs a parse per statement and never fails that way.
    var usesNamedStatements: Bool { configuration.usePreparedStatements && !throughPooler }

    init(
        handle: OpaquePointer,
        reactor: SocketReactor,
        cancel: CancelHandle,
        configuration: ConnectionConfiguration,
        noticeSink: NoticeSink
    ) {
        self.handle = handle
        self.reactor = reactor
        self.configuration = configuration
        self.noticeSink = noticeSink
        backendPID = PQbackendPID(handle)
        localEndpoint = Self.localEndpoint(of: PQsocket(handle))
        openedAt = Date()
        serverVersion = Int(PQserverVersion(handle))
        serverVersionText = PQparameterStatus(handle, "server_version").map { String(cString: $0) } ?? ""
        let owner = Self.nextOwnerID.withLock { next in
            next &+= 1
            return next
        }
        self.owner = owner
        cancellation = QueryCancellation(handle: cancel, timeout: configuration.cancelTimeout) {
            reactor.interrupt(owner: owner)
        }
        target = Self.describe(handle)
    }

    /// `address:port` of a TCP socket's own end, numeric; nil for another kind of socket or when it cannot be read.
    private static func localEndpoint(of socket: Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let family = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                getsockname(socket, address, &length) == 0 ? Int32(address.pointee.sa_family) : AF_UNSPEC
            }
        }
        guard family == AF_INET || family == AF_INET6 else { return nil }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var port = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                getnameinfo(
                    address, length, &host, socklen_t(host.count), &port, socklen_t(port.count),
                    NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return nil }
        func text(_ characters: [CChar]) -> String {
            String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return text(host) + ":" + text(port)
    }

    deinit {
        if !claim.isClosed { finish() }
    }

    /// Takes the socket out of the reactor, then closes the connection. The descriptor is asked of libpq each time,
    /// never cached: libpq closes the socket itself when the connection fails, and the number may then belong to
    /// another connection, whose registration a stale number would remove.
    func finish() {
        let socket = PQsocket(handle)
        reactor.forget(socket >= 0 ? socket : nil, owner: owner)
        PQfinish(handle)
    }
}
