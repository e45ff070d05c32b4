import Foundation
import Support

/// Runs calls that may block (DNS lookups, TLS handshakes, `PQcancel`) on a thread of their own, never on a thread of
/// Swift's cooperative pool (rule 2 of ``PostgresConnection``'s threads and locks).
enum DedicatedThread {
    /// Runs `body` on a new thread and suspends until it returns.
    ///
    /// If the calling task is cancelled first, the call returns `CancellationError` at once and `body` runs to its end
    /// on its thread; `abandon` then receives the late result so it can release what it holds.
    static func run<Value: Sendable>(
        name: String,
        _ body: @escaping @Sendable () -> Value,
        abandon: @escaping @Sendable (Value) -> Void
    ) async throws -> Value {
        let handoff = Handoff<Value>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard handoff.install(continuation) else {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                let thread = Thread {
                    let value = body()
                    if !handoff.deliver(value) { abandon(value) }
                }
                thread.name = name
                thread.start()
            }
        } onCancel: {
            handoff.cancel()
        }
    }

    /// Runs `body` on a new thread without waiting for it.
    static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }
}

/// Hands one value from a thread to a waiting task, or a cancellation, whichever comes first; the loser is told.
private final class Handoff<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value, any Error>)
        case finished
    }

    private let state = Locked<State>(.idle)

    /// Returns false when the task was cancelled before it could wait.
    func install(_ continuation: CheckedContinuation<Value, any Error>) -> Bool {
        state.withLock { state in
            guard case .idle = state else { return false }
            state = .waiting(continuation)
            return true
        }
    }

    /// Returns false when nobody waits any more (the task was cancelled).
    func deliver(_ value: Value) -> Bool {
        guard let continuation = take() else { return false }
        continuation.resume(returning: value)
        return true
    }

    func cancel() {
        take()?.resume(throwing: CancellationError())
    }

    private func take() -> CheckedContinuation<Value, any Error>? {
        state.withLock { state in
            defer { state = .finished }
            if case .waiting(let continuation) = state { return continuation }
            return nil
        }
    }
}
