import CEpoll
import Foundation
import Glibc
import Support

/// Suspends tasks until a libpq socket is ready, using one epoll thread for all connections; the same thread is an
/// executor that runs the tasks preferring it (``PostgresExecutor``), as an event loop.
///
/// Why one shared thread rather than a thread per connection: a query spends almost all of its time waiting for
/// the server, and a suspended task costs nothing, while a parked thread costs a stack and a context switch per
/// round trip. The libpq calls run on the caller's task (rule 2 of ``PostgresConnection``'s threads and locks); only
/// the wait for readiness happens here.
/// Waits are one-shot (`EPOLLONESHOT`): each readiness event resumes exactly one waiter.
///
/// The loop runs every job queued so far, then asks epoll for ready sockets: without waiting when it ran some (so
/// sockets are served between bursts of jobs), blocking when it had none. A job enqueued from another thread while it
/// blocks wakes it through an eventfd, which is only written when it is asleep.
final class SocketReactor: TaskExecutor, Sendable {
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
        /// Unsafe, not checked, which costs an allocation per wait: each is resumed exactly once, by whoever removes
        /// it from `waiters` under the lock.
        var continuation: UnsafeContinuation<Readiness, any Error>
    }

    private struct State {
        var waiters: [Int32: Waiter] = [:]
        /// Owners interrupted while not waiting: their next wait ends at once.
        var interrupted: Set<Int> = []
    }

    /// Jobs of the tasks that prefer this executor, waiting for the loop.
    private struct Jobs {
        var queue: [UnownedJob] = []
        /// The loop is, or is about to be, blocked in `epoll_wait` with nothing to run: an enqueue must wake it.
        var sleeping = false
    }

    private let epollFD: Int32
    /// Written to wake the loop; registered with `epollFD` for as long as the process lives.
    private let wakeFD: Int32
    /// The wake-up's event data: a socket's is its descriptor (below 2³¹), so this one cannot be mistaken for a socket
    /// that was given the eventfd's number, should the number ever be reused.
    private static let wakeTag = UInt64.max
    private let state = Locked(State())
    private let jobs = Locked(Jobs())
    /// The loop's thread, once it has started.
    private let loopThread = Locked<pthread_t?>(nil)

    private init() throws(SystemCallError) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError(call: "epoll_create1", errno: errno) }
        let wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard wakeFD >= 0 else { throw SystemCallError(call: "eventfd", errno: errno) }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeTag
        guard epoll_ctl(fd, EPOLL_CTL_ADD, wakeFD, &event) == 0 else {
            throw SystemCallError(call: "epoll_ctl", errno: errno)
        }
        epollFD = fd
        self.wakeFD = wakeFD
        let thread = Thread { [self] in runLoop() }
        thread.name = "memory-worker.socket-reactor"
        thread.start()
    }

    /// Suspends until `fd` is ready for `interest`, or until ``interrupt(owner:)`` is called for `owner`.
    ///
    /// Only one task may wait on a socket at a time; a connection is used by one task at a time, so that holds.
    func wait(for fd: Int32, _ interest: Interest, owner: Int) async throws -> Readiness {
        try await withUnsafeThrowingContinuation { continuation in
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

    /// Queues the job of a task that prefers this executor; the loop runs it after the jobs queued before it.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let wake = jobs.withLock { jobs in
            jobs.queue.append(job)
            defer { jobs.sleeping = false }
            return jobs.sleeping
        }
        if wake { _ = eventfd_write(wakeFD, 1) }
    }

    /// Whether the caller runs on the loop's thread.
    package var isCurrentThread: Bool {
        loopThread.withLock { thread in thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    private func runLoop() {
        loopThread.withLock { $0 = pthread_self() }
        let capacity: Int32 = 128
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        // Two arrays swapped each round, so queueing and running reuse their storage instead of allocating.
        var running: [UnownedJob] = []
        let executor = asUnownedTaskExecutor()
        while true {
            jobs.withLock { jobs in
                swap(&jobs.queue, &running)
                jobs.sleeping = running.isEmpty
            }
            for job in running { job.runSynchronously(on: executor) }
            let idle = running.isEmpty
            running.removeAll(keepingCapacity: true)
            let count = epoll_wait(epollFD, events, capacity, idle ? -1 : 0)
            if count < 0 {
                // EINTR is a signal arriving; nothing else can fail on a valid epoll descriptor and buffer.
                continue
            }
            for index in 0..<Int(count) {
                let event = events[index]
                if event.data.u64 == Self.wakeTag {
                    var value: eventfd_t = 0
                    _ = eventfd_read(wakeFD, &value)
                    continue
                }
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
