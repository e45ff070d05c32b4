import Postgres
import Support

/// An operator's request to stop (SIGINT, SIGTERM): no new job starts and no new unit is taken; units already
/// running finish, or are cancelled (and roll back) when the grace period ends. Work that is not a unit (preparing
/// the store, which may wait on another worker's migration lock) is cancelled at once.
public final class ShutdownRequest: Sendable {
    private struct State {
        var signal: Int32?
        /// What to cancel when the request comes, by registration.
        var cancellations: [Int: @Sendable () -> Void] = [:]
        var nextRegistration = 0
    }

    private let state = Locked(State())

    public init() {}

    /// Records the request, with the signal that made it; the first one counts, and cancels what waits for it.
    public func request(signal: Int32) {
        let cancellations = state.withLock { state -> [@Sendable () -> Void] in
            guard state.signal == nil else { return [] }
            state.signal = signal
            defer { state.cancellations.removeAll() }
            return Array(state.cancellations.values)
        }
        for cancel in cancellations { cancel() }
    }

    /// The signal that asked for the shutdown, if one did.
    public var signal: Int32? { state.withLock { $0.signal } }

    public var isRequested: Bool { signal != nil }

    /// Runs `body` in a task that is cancelled as soon as a shutdown is requested (at once if it already was), or
    /// when the calling task is cancelled; returns or rethrows what `body` does.
    public func cancellingOnRequest<Value: Sendable>(
        _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let task = Task { try await body() }
        let registration = state.withLock { state -> Int? in
            guard state.signal == nil else { return nil }
            defer { state.nextRegistration += 1 }
            state.cancellations[state.nextRegistration] = { task.cancel() }
            return state.nextRegistration
        }
        if registration == nil { task.cancel() }
        defer {
            if let registration { state.withLock { _ = $0.cancellations.removeValue(forKey: registration) } }
        }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }
}
