import CLibPQ
import Foundation
import Glibc
import Logging
import Support

/// Opening a connection. `PQconnectdbParams` blocks (DNS, TLS, authentication), so it runs on a dedicated thread
/// (rule 2 of ``PostgresConnection``'s threads and locks); connections are opened rarely, so a thread each is cheap.
extension PostgresConnection {
    /// Opens a connection. Cancelling the task abandons the attempt at once.
    public static func connect(
        _ configuration: ConnectionConfiguration,
        logger: Logger = Logger(label: "memory-worker.postgres")
    ) async throws -> PostgresConnection {
        try Task.checkCancellation()
        let reactor: SocketReactor
        do {
            reactor = try SocketReactor.shared()
        } catch {
            throw PostgresConnectionError(kind: .connectFailed, message: "\(error)", target: configuration.maskedURL)
        }
        let parameters = configuration.effectiveParameters
        let opened = try await DedicatedThread.run(name: "memory-worker.connect") {
            withCStringArrays(parameters) { keywords, values in
                UncheckedHandle(pointer: PQconnectdbParams(keywords, values, 0))
            }
        } abandon: { opened in
            PQfinish(opened.pointer)
        }
        guard let handle = opened.pointer else {
            throw PostgresConnectionError(
                kind: .connectFailed, message: "out of memory", target: configuration.maskedURL)
        }
        guard PQstatus(handle) == CONNECTION_OK, PQsetnonblocking(handle, 1) == 0, let cancel = PQgetCancel(handle)
        else {
            var message = configuration.redact(errorMessage(handle))
            if let advice = advice(forConnectFailure: message) { message += " (\(advice))" }
            PQfinish(handle)
            throw PostgresConnectionError(kind: .connectFailed, message: message, target: configuration.maskedURL)
        }
        let sink = NoticeSink(logger: logger)
        PQsetNoticeReceiver(
            handle,
            { context, notice in
                guard let context, let notice else { return }
                Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue().receive(notice)
            },
            Unmanaged.passUnretained(sink).toOpaque()
        )
        let connection = PostgresConnection(
            handle: handle,
            reactor: reactor,
            cancel: CancelHandle(cancel),
            configuration: configuration,
            noticeSink: sink
        )
        if configuration.isPoolerConsole { return connection }
        // Timestamps are read in ISO form; a server or role configured otherwise is switched for this session
        // (PgBouncer tracks DateStyle per client and sets it on every server connection it lends, so this holds
        // through it too). In the same round trip, the server process that runs the statement: not the one libpq
        // was told of when a pooler sits between (``throughPooler``). The simple query protocol names no statement.
        let dateStyle = PQparameterStatus(handle, "DateStyle").map { String(cString: $0) } ?? ""
        let whoAnswers = "SELECT pg_catalog.pg_backend_pid()"
        let answer = try await connection.simpleQuery(
            dateStyle.hasPrefix("ISO") ? whoAnswers : "SET DateStyle TO ISO; " + whoAnswers)
        guard let row = answer.rows.first else { throw connection.unexpected("pg_backend_pid() returned no row") }
        connection.serverPIDAtConnect = try row.decode(0, as: Int32.self)
        return connection
    }

    /// The masked URL of the database `handle` reached.
    static func describe(_ handle: OpaquePointer) -> String {
        func text(_ value: UnsafeMutablePointer<CChar>?) -> String? { value.map { String(cString: $0) } }
        return ConnectionConfiguration.maskedURL(
            user: text(PQuser(handle)),
            host: text(PQhost(handle)),
            port: text(PQport(handle)),
            database: text(PQdb(handle)),
            hasPassword: PQconnectionUsedPassword(handle) == 1
        )
    }

    private static func withCStringArrays<Result>(
        _ pairs: [(keyword: String, value: String)],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> Result
    ) -> Result {
        let keywords = pairs.map { strdup($0.keyword) } + [nil]
        let values = pairs.map { strdup($0.value) } + [nil]
        defer {
            for pointer in keywords + values { free(pointer) }
        }
        let constKeywords = keywords.map { UnsafePointer($0) }
        let constValues = values.map { UnsafePointer($0) }
        return body(constKeywords, constValues)
    }
}

/// Receives the server's notices (e.g. "table already exists, skipping") so libpq does not print them to stderr, and
/// notices that the server is ending the session.
///
/// A backend that is terminated while its connection sits idle sends `FATAL: terminating connection…` and then
/// closes the socket; libpq, with no statement running, hands that error here as a notice. Reading it is enough to
/// know the connection is gone, even when the end of the stream has not arrived yet.
final class NoticeSink: Sendable {
    let logger: Logger
    private let sessionEnded = Locked(false)

    init(logger: Logger) { self.logger = logger }

    /// Called by libpq, on the thread of the libpq call that read the notice.
    func receive(_ notice: OpaquePointer) {
        // "V": the severity never translated (PG_DIAG_SEVERITY_NONLOCALIZED, a character macro Swift does not import).
        let severity = PQresultErrorField(notice, Int32(UInt8(ascii: "V"))).map { String(cString: $0) }
        if severity == "FATAL" || severity == "PANIC" { sessionEnded.withLock { $0 = true } }
        let message = PQresultErrorMessage(notice).map { String(cString: $0) } ?? ""
        logger.debug("server notice: \(message.trimmingCharacters(in: .newlines))")
    }

    /// Whether the server said it is ending this session.
    var serverEndedSession: Bool { sessionEnded.withLock { $0 } }
}

/// A `PGconn` pointer crossing from the thread that opened it to the task that uses it.
///
/// `@unchecked Sendable` without a lock: it is handed over exactly once, through a continuation, and the opening
/// thread does not touch it afterwards.
private struct UncheckedHandle: @unchecked Sendable {
    let pointer: OpaquePointer?
}
