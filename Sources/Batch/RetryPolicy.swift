import ConnectionPool
import Postgres

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

    /// Runs `body`, retrying transient failures; `onRetry` hears of each retry. Throws the last error when the budget
    /// is spent or the error is not transient.
    func run<Value>(
        onRetry: (any Error) -> Void,
        _ body: () async throws -> Value
    ) async throws -> Value {
        var delay = initialDelay
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch {
                guard attempt < attempts, Self.isTransient(error), !Task.isCancelled else { throw error }
                onRetry(error)
                // Full jitter: tasks that failed together (a server restart) do not come back together.
                let jittered = delay * Double.random(in: 0.5...1.0)
                try await Task.sleep(for: jittered)
                delay = min(maximumDelay, delay * 2)
                attempt += 1
            }
        }
    }

    /// Whether `error` may pass on its own: connection trouble, an administrator or crash shutdown, a serialization
    /// failure or deadlock, too many connections. Statement errors (bad SQL, constraint violations) and pool
    /// timeouts are not: repeating them only delays the report.
    public static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresConnectionError:
            return error.kind == .connectFailed || error.kind == .connectionLost
        case let error as PostgresServerError:
            let code = error.sqlState
            return code.hasPrefix("08") || ["57P01", "57P02", "57P03", "40001", "40P01", "53300"].contains(code)
        case let error as PoolError:
            return error.kind == .connectFailed
        default:
            return false
        }
    }
}
