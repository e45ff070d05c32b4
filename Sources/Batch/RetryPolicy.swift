/// Retries a unit of work that failed for a reason that may pass: a lost connection, a server restart, a
/// serialization failure or deadlock. Units are safe to repeat (an ingest batch is one idempotent transaction, a query
/// only reads), so a retry can neither lose nor duplicate data.
public struct RetryPolicy: Sendable, Equatable {
    /// Tries per unit, the first included (`worker.retry.attempts`).
    public var attempts: Int
    /// Delay before the first retry, doubled for each further one (`worker.retry.initial_delay`).
    public var initialDelay: Duration
    /// Longest delay between tries (`worker.retry.max_delay`).
    public var maximumDelay: Duration

    public init(attempts: Int = 6, initialDelay: Duration = .milliseconds(200), maximumDelay: Duration = .seconds(5)) {
        self.attempts = attempts
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// A retry about to happen, as `onRetry` hears of it.
    public struct Retry {
        public var error: any Error
        /// The try about to be made (2 for the first retry) and the tries there are in all.
        public var attempt: Int
        public var attempts: Int
        public var delay: Duration
    }

    /// Runs `body`, retrying transient failures; `onRetry` hears of each retry before its delay. Throws the last
    /// error when the budget is spent or the error is not transient.
    public func run<Value>(
        onRetry: (Retry) -> Void = { _ in },
        _ body: () async throws -> Value
    ) async throws -> Value {
        var delay = initialDelay
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch {
                guard attempt < attempts, Self.isTransient(error), !Task.isCancelled else { throw error }
                // Full jitter: tasks that failed together (a server restart) do not come back together.
                let jittered = delay * Double.random(in: 0.5...1.0)
                attempt += 1
                onRetry(Retry(error: error, attempt: attempt, attempts: attempts, delay: jittered))
                try await Task.sleep(for: jittered)
                delay = min(maximumDelay, delay * 2)
            }
        }
    }

    /// Whether `error` may pass on its own (``FailureKind/transient``): connection trouble, a server starting or
    /// shutting down, a serialization failure or deadlock, too many connections. Refused credentials, statement
    /// errors, cancelled statements and pool timeouts are not: repeating them only delays the report.
    public static func isTransient(_ error: any Error) -> Bool {
        FailureDiagnosis(error).kind == .transient
    }
}
