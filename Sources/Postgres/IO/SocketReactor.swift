import CEpoll
import Foundation
import Glibc

/// Suspends tasks until a libpq socket is ready, using one epoll thread for all connections.
///
/// Why one shared thread rather than a thread per connection: a query spends almost all of its time waiting for
/// the server, and a suspended task costs nothing, while a parked thread costs a stack and a context switch per
/// round trip. libpq's non-blocking calls (`PQsendQueryParams`, `PQflush`, `PQconsumeInput`, `PQisBusy`,
/// `PQgetResult`) never block, so they run on the caller's task; only the wait for readiness happens here.
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

    private let epollFD: Int32
    private let waiters = Locked<[Int32: CheckedContinuation<Readiness, any Error>]>([:])

    private init() throws(SystemCallError) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError(call: "epoll_create1", errno: errno) }
        epollFD = fd
        let thread = Thread { [self] in runLoop() }
        thread.name = "memory-worker.socket-reactor"
        thread.start()
    }

    /// Suspends until `fd` is ready for `interest`.
    ///
    /// Only one task may wait on a socket at a time; a connection is used by one task at a time, so that holds.
    func wait(for fd: Int32, _ interest: Interest) async throws -> Readiness {
        try await withCheckedThrowingContinuation { continuation in
            waiters.withLock { $0[fd] = continuation }
            var event = epoll_event()
            event.events = interest.events | EPOLLONESHOT.rawValue | EPOLLRDHUP.rawValue
            event.data.fd = fd
            // The socket stays registered between waits (one-shot disarms it), so re-arming is the common case.
            if epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0 { return }
            if errno == ENOENT, epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 { return }
            let failure = SystemCallError(call: "epoll_ctl", errno: errno)
            if let waiter = waiters.withLock({ $0.removeValue(forKey: fd) }) {
                waiter.resume(throwing: failure)
            }
        }
    }

    /// Removes `fd` from the interest list; call before the socket is closed so a reused number starts clean.
    func forget(_ fd: Int32) {
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
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
                waiters.withLock { $0.removeValue(forKey: fd) }?.resume(returning: readiness)
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
