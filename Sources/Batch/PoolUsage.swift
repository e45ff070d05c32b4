import ConnectionPool
import CoreMetrics
import Foundation
import Postgres
import Support

/// One job's use of the pool, measured around each lease: how long units waited for a connection and held it.
///
/// Measured by the job rather than read from the pool, because the pool is shared: its counters mix every job of
/// the batch, while an operator wants to know which job waited.
public struct PoolUsage: Sendable, Codable, Equatable {
    public var leases: Int
    public var peakConcurrentLeases: Int
    public var waitMs: Percentiles
    public var holdMs: Percentiles
    public var holdTotalMs: Double
    public var timeouts: Int
    public var errors: Int

    public struct Percentiles: Sendable, Codable, Equatable {
        public var p50: Double
        public var p95: Double
        public var max: Double

        package static func of(_ sorted: [Double]) -> Percentiles {
            guard let last = sorted.last else { return Percentiles(p50: 0, p95: 0, max: 0) }
            func at(_ fraction: Double) -> Double {
                sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
            }
            return Percentiles(p50: at(0.5), p95: at(0.95), max: last)
        }
    }

    enum CodingKeys: String, CodingKey {
        case leases
        case peakConcurrentLeases = "peak_concurrent_leases"
        case waitMs = "wait_ms"
        case holdMs = "hold_ms"
        case holdTotalMs = "hold_total_ms"
        case timeouts, errors
    }
}

/// Leases connections for one job and records its ``PoolUsage``.
///
/// Each wait and hold also goes to a swift-metrics timer labelled with the job, for the histograms of the metrics
/// file: the report keeps percentiles only. Without a metrics backend bootstrapped (no metrics file) they are no-ops.
public final class JobLeases: Sendable {
    /// The timers' labels, which the metrics backend names its histograms by.
    package static let waitTimerLabel = "memory_worker_pool_wait_seconds"
    package static let holdTimerLabel = "memory_worker_pool_hold_seconds"

    private struct State {
        var waits: [Double] = []
        var holds: [Double] = []
        var current = 0
        var peak = 0
        var timeouts = 0
        var errors = 0
    }

    public let pool: ConnectionPool
    public let job: String
    private let state = Locked(State())
    private let waitTimer: CoreMetrics.Timer
    private let holdTimer: CoreMetrics.Timer

    public init(pool: ConnectionPool, job: String) {
        self.pool = pool
        self.job = job
        waitTimer = CoreMetrics.Timer(label: Self.waitTimerLabel, dimensions: [("job", job)])
        holdTimer = CoreMetrics.Timer(label: Self.holdTimerLabel, dimensions: [("job", job)])
    }

    /// Leases a connection for `body`, as `task` of this job, recording wait and hold times.
    public func withConnection<Value>(
        task: Int,
        fileID: String = #fileID,
        line: Int = #line,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        let requested = ContinuousClock.now
        do {
            let value = try await pool.withConnection(holder: "\(job) task \(task)", fileID: fileID, line: line) {
                connection in
                let now = ContinuousClock.now
                let waited = (now - requested).milliseconds
                waitTimer.recordMilliseconds(waited)
                state.withLock { state in
                    state.waits.append(waited)
                    state.current += 1
                    state.peak = max(state.peak, state.current)
                }
                defer {
                    let held = (ContinuousClock.now - now).milliseconds
                    holdTimer.recordMilliseconds(held)
                    state.withLock { state in
                        state.holds.append(held)
                        state.current -= 1
                    }
                }
                return try await body(connection)
            }
            return value
        } catch {
            state.withLock { state in
                if (error as? PoolError)?.kind == .timedOut {
                    state.timeouts += 1
                } else if !(error is CancellationError) {
                    state.errors += 1
                }
            }
            throw error
        }
    }

    /// The usage so far.
    public var usage: PoolUsage {
        state.withLock { state in
            PoolUsage(
                leases: state.holds.count,
                peakConcurrentLeases: state.peak,
                waitMs: .of(state.waits.sorted()),
                holdMs: .of(state.holds.sorted()),
                holdTotalMs: state.holds.reduce(0, +),
                timeouts: state.timeouts,
                errors: state.errors
            )
        }
    }
}
