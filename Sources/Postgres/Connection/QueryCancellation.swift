import CLibPQ
import Support

/// Owns a `PGcancel` and frees it with the last reference.
///
/// `@unchecked Sendable` without a lock: a `PGcancel` is a copy of the connection's address and keys that libpq
/// never changes after `PQgetCancel`, and libpq documents `PQcancel` as safe to call from any thread.
final class CancelHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { PQfreeCancel(pointer) }
}

/// Turns a Swift task cancellation into a PostgreSQL cancel request for the operation running on one connection.
///
/// The cancel request goes over its own connection (`PQcancel` blocks), so it runs on a dedicated thread, and this
/// state is shared with that thread under a lock (rules 2 and 3 of ``PostgresConnection``'s threads and locks). An
/// operation does not return until that request has been delivered: a cancel still on its way could otherwise hit the
/// next statement on the same connection. If the server does not end the operation within the timeout, the
/// operation's wait is interrupted, which ends it with a lost connection instead of leaving it wedged.
final class QueryCancellation: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var active = false
        /// The operation has sent its statement: before that, a cancel request would reach an idle backend and be
        /// ignored, so it is held back until the statement is on its way.
        var sent = false
        var cancelHeldBack = false
        var requestInFlight = false
        var endWaiter: CheckedContinuation<Void, Never>?
        /// The socket was shut down or a cancel request never finished: the connection can no longer be trusted.
        var broken = false
    }

    private let state = Locked(State())
    private let handle: CancelHandle
    private let timeout: Duration
    /// Ends the operation's wait for the server (``SocketReactor/interrupt(owner:)``).
    private let interruptWait: @Sendable () -> Void

    init(handle: CancelHandle, timeout: Duration, interruptWait: @escaping @Sendable () -> Void) {
        self.handle = handle
        self.timeout = timeout
        self.interruptWait = interruptWait
    }

    /// Marks the start of an operation that a cancellation should interrupt.
    func begin() -> UInt64 {
        state.withLock { state in
            state.generation &+= 1
            state.active = true
            state.sent = false
            state.cancelHeldBack = false
            return state.generation
        }
    }

    /// Sends a cancel request for operation `generation` if it is still running; called from the cancelled task's
    /// cancellation handler, on whatever thread cancelled it.
    func requestCancel(generation: UInt64) {
        let send = state.withLock { state in
            guard state.active, state.generation == generation, !state.requestInFlight else { return false }
            guard state.sent else {
                state.cancelHeldBack = true
                return false
            }
            state.requestInFlight = true
            return true
        }
        guard send else { return }
        DedicatedThread.detach(name: "memory-worker.cancel") { [self] in
            var message = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle.pointer, &message, Int32(message.count))
            let waiter = state.withLock { state in
                state.requestInFlight = false
                defer { state.endWaiter = nil }
                return state.endWaiter
            }
            waiter?.resume()
        }
        Task { [self, timeout] in
            try? await Task.sleep(for: timeout)
            expire(generation: generation)
        }
    }

    /// Records that the operation's statement is on its way, and sends a cancel request held back until then.
    func markSent() {
        let (generation, heldBack) = state.withLock { state in
            state.sent = true
            defer { state.cancelHeldBack = false }
            return (state.generation, state.cancelHeldBack)
        }
        if heldBack { requestCancel(generation: generation) }
    }

    /// Sends a cancel request for whatever operation is running now, if any.
    func cancelActive() {
        let generation = state.withLock { $0.active ? $0.generation : nil }
        if let generation { requestCancel(generation: generation) }
    }

    /// Marks the end of the operation; waits for a cancel request still on its way. Returns false when the connection
    /// must be discarded.
    func end() async -> Bool {
        let mustWait = state.withLock { state in
            state.active = false
            return state.requestInFlight
        }
        if mustWait {
            await withCheckedContinuation { continuation in
                let waitsForRequest = state.withLock { state in
                    guard state.requestInFlight, !state.broken else { return false }
                    state.endWaiter = continuation
                    return true
                }
                if !waitsForRequest { continuation.resume() }
            }
        }
        return state.withLock { !$0.broken }
    }

    private func expire(generation: UInt64) {
        enum Expiry {
            case none
            case interruptOperation
            case releaseWaiter(CheckedContinuation<Void, Never>)
        }
        let expiry: Expiry = state.withLock { state in
            guard state.generation == generation else { return .none }
            if state.active {
                // The server did not answer the cancel: end the wait with an error rather than wait forever.
                state.broken = true
                return .interruptOperation
            }
            guard state.requestInFlight, let waiter = state.endWaiter else { return .none }
            // The cancel request itself hangs; it might still land on a later statement, so the connection goes.
            state.broken = true
            state.endWaiter = nil
            return .releaseWaiter(waiter)
        }
        switch expiry {
        case .none: break
        case .interruptOperation: interruptWait()
        case .releaseWaiter(let waiter): waiter.resume()
        }
    }
}
