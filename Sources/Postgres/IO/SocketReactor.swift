import CEpoll
import Foundation
import Glibc
import Support

/// Suspends tasks until a libpq socket is ready, using one epoll thread for all connections.
///
/// Why one shared thread rather than a thread per connection: a query spends almost all of its time waiting for
/// the server, and a suspended task costs nothing, while a parked thread costs a stack and a context switch per
/// round trip. The libpq calls run on the caller's task (rule 2 of ``PostgresConnection``'s threads and locks); only
/// the wait for readiness happens here.
/// Waits are one-shot (`EPOLLONESHOT`): each readiness event resumes exactly one waiter.
final class SocketReactor: Sendable {
    /// What a waiter needs from the socket.
    enum Interest {
        case readable
        case writable
        case readableOrWritable

        fileprivate var events: UInt32 {
            switch self {
            case .readable: EPOLLIN.rawValue
            case .writable: EPOLLOUT.rawValue
            case .readableOrWritable: EPOLLIN.rawValue | EPOLLOUT.rawValue
            }
        }
    }

    /// What the socket turned out to be; errors and hang-ups count as readable, so libpq reads and reports them.
    struct Readiness: Sendable {
        var readable: Bool
        var writable: Bool
    }

    /// The process-wide reactor, started on first use.
    static func shared() throws -> SocketReactor {
        try sharedReactor.get()
    }

    private static let sharedReactor = Result<SocketReactor, SystemCallError> { () throws(SystemCallError) in
        try SocketReactor()
    }

    /// Why a wait ended without readiness: its owner gave up on the connection (see ``interrupt(owner:)``).
    struct Interrupted: Error, CustomStringConvertible {
        var description: String { "the wait for the server was interrupted" }
    }

    private struct Waiter {
        var owner: Int
        var continuation: CheckedContinuation<Readiness, any Error>
    }

    private struct State {
        var waiters: [Int32: Waiter] = [:]
        /// Owners interrupted while not waiting: their next wait ends at once.
        var interrupted: Set<Int> = []
    }

    private let epollFD: Int32
    private let state = Locked(State())

    private init() throws(SystemCallError) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError(call: "epoll_create1", errno: errno) }
        epollFD = fd
        let thread = Thread { [self] in runLoop() }
        thread.name = "memory-worker.socket-reactor"
        thread.start()
    }

    /// Suspends until `fd` is ready for `interest`, or until ``interrupt(owner:)`` is called for `owner`.
    ///
    /// Only one task may wait on a socket at a time; a connection is used by one task at a time, so that holds.
    func wait(for fd: Int32, _ interest: Interest, owner: Int) async throws -> Readiness {
        try await withCheckedThrowingContinuation { continuation in
            let interrupted = state.withLock { state in
                if state.interrupted.remove(owner) != nil { return true }
                state.waiters[fd] = Waiter(owner: owner, continuation: continuation)
                return false
            }
            if interrupted { return continuation.resume(throwing: Interrupted()) }
            var event = epoll_event()
            event.events = interest.events | EPOLLONESHOT.rawValue | EPOLLRDHUP.rawValue
            event.data.fd = fd
            // The socket stays registered between waits (one-shot disarms it), so re-arming is the common case.
            if epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0 { return }
            if errno == ENOENT, epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 { return }
            let failure = SystemCallError(call: "epoll_ctl", errno: errno)
            state.withLock { $0.waiters.removeValue(forKey: fd) }?.continuation.resume(throwing: failure)
        }
    }

    /// Ends `owner`'s current wait with ``Interrupted``, or its next one if it is not waiting now.
    ///
    /// Found by owner rather than by socket: the caller runs on another thread, and by then libpq may have closed the
    /// socket and its number may belong to another connection.
    func interrupt(owner: Int) {
        let waiter = state.withLock { state -> Waiter? in
            guard let fd = state.waiters.first(where: { $0.value.owner == owner })?.key else {
                state.interrupted.insert(owner)
                return nil
            }
            return state.waiters.removeValue(forKey: fd)
        }
        waiter?.continuation.resume(throwing: Interrupted())
    }

    /// Removes `fd` from the interest list and forgets `owner`; call before the socket is closed, so a reused number
    /// starts clean.
    func forget(_ fd: Int32?, owner: Int) {
        if let fd { _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) }
        state.withLock { _ = $0.interrupted.remove(owner) }
    }

    private func runLoop() {
        let capacity: Int32 = 128
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        while true {
            let count = epoll_wait(epollFD, events, capacity, -1)
            if count < 0 {
                // EINTR is a signal arriving; nothing else can fail on a valid epoll descriptor and buffer.
                continue
            }
            for index in 0..<Int(count) {
                let event = events[index]
                let fd = event.data.fd
                let flags = event.events
                let readiness = Readiness(
                    readable: flags & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue)
                        != 0,
                    writable: flags & EPOLLOUT.rawValue != 0
                )
                state.withLock { $0.waiters.removeValue(forKey: fd) }?.continuation.resume(returning: readiness)
            }
        }
    }
}

/// A failed system call, with the call's name and the errno text.
struct SystemCallError: Error, CustomStringConvertible {
    var call: String
    var errno: Int32

    var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
}
