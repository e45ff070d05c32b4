import CAllocationCounter
import ConnectionPool
import Foundation
import Glibc
import PoolConfiguration
import Postgres
import Support

/// Round trips through `ConnectionPool`: lease, one statement, return, from many tasks at once.
///
/// Each pool is opened to its full size and warmed (every connection has leased and prepared the statement) before
/// anything is timed, so the numbers are the steady state a batch sees, not connection set-up.
struct PoolBench: Sendable {
    let configuration: ConnectionConfiguration

    /// The statement of every lease: one bound parameter, one tiny row back, as pgbench's script runs it.
    static let statement = "SELECT $1::int + 1"

    /// Opens a pool of exactly `size` connections, waits until all are open and idle, runs `body`, closes the pool.
    func withWarmPool<Value>(size: Int, _ body: (ConnectionPool) async throws -> Value) async throws -> Value {
        let pool = ConnectionPool(
            configuration: configuration,
            settings: PoolSettings(
                minSize: size, maxSize: size, acquireTimeout: .seconds(120), maxLifetime: nil, idleTimeout: nil,
                leakThreshold: nil)
        )
        do {
            try await waitUntilOpen(pool, size: size)
            let value = try await body(pool)
            await pool.close(drain: .seconds(10))
            return value
        } catch {
            await pool.close(drain: .seconds(1))
            throw error
        }
    }

    private func waitUntilOpen(_ pool: ConnectionPool, size: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let statistics = pool.statistics
            if statistics.poolSize == size, statistics.poolAvailable == size { return }
            if statistics.connectionsErrors > 0 {
                throw BenchError(
                    "the pool could not open its \(size) connections (\(statistics.connectionsErrors) errors)")
            }
            guard ContinuousClock.now < deadline else {
                throw BenchError("the pool opened \(statistics.poolSize) of \(size) connections within 60 s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Wall time, and the bench process's CPU time and context switches (all its threads: the tasks, the socket
    /// reactor), of a measurement.
    struct Timing: Sendable {
        var seconds: Double
        var userSeconds: Double
        var systemSeconds: Double
        var contextSwitches: Int
        /// Heap allocations in the whole process (every thread) while the leases ran.
        var allocations: Int
    }

    /// Runs `leases` round trips from `tasks` tasks sharing one counter and returns what they took. Every answer is
    /// checked, so a fast wrong pool cannot win.
    func timeLeases(on pool: ConnectionPool, tasks: Int, leases: Int) async throws -> Timing {
        let tickets = Tickets()
        let usageStarted = ProcessUsage.now()
        let started = ContinuousClock.now
        mw_allocations_start()
        // On the reactor's thread, as a batch's query jobs run.
        try await PostgresExecutor.run {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<tasks {
                    group.addTask {
                        while true {
                            let number = tickets.take()
                            guard number < leases else { return }
                            let answer = try await pool.withConnection(holder: "bench") { connection in
                                try await connection.query(Self.statement, [number]).rows.first?.decode(0, as: Int.self)
                            }
                            guard answer == number + 1 else {
                                throw BenchError(
                                    "SELECT $1::int + 1 with $1 = \(number) returned \(String(describing: answer))")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let allocations = mw_allocations_stop()
        let elapsed = seconds(since: started)
        let usage = ProcessUsage.now()
        return Timing(
            seconds: elapsed, userSeconds: usage.userSeconds - usageStarted.userSeconds,
            systemSeconds: usage.systemSeconds - usageStarted.systemSeconds,
            contextSwitches: usage.contextSwitches - usageStarted.contextSwitches, allocations: Int(allocations))
    }

    /// Round trips until every connection of the pool has served several leases and prepared the statement.
    func warmUp(_ pool: ConnectionPool, size: Int) async throws {
        _ = try await timeLeases(on: pool, tasks: max(64, size * 4), leases: max(2000, size * 50))
    }

    /// Starts `sessions` leases at once, each running `sql`; returns the wall time until the last one is back.
    func timeConcurrent(on pool: ConnectionPool, sessions: Int, sql: String) async throws -> Double {
        let started = ContinuousClock.now
        try await PostgresExecutor.run {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<sessions {
                    group.addTask {
                        try await pool.withConnection(holder: "bench") { connection in
                            _ = try await connection.query(sql)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        return seconds(since: started)
    }
}

/// Lease numbers handed out to the tasks of one measurement; the tasks stop when they pass the total.
private final class Tickets: Sendable {
    private let next = Locked(0)

    func take() -> Int {
        next.withLock { next in
            defer { next += 1 }
            return next
        }
    }
}

/// What the kernel has accounted to this process so far, all threads (`getrusage(RUSAGE_SELF)`).
struct ProcessUsage: Sendable {
    var userSeconds: Double
    /// Time in the kernel: system calls (poll, epoll, send, recv) and wake-ups.
    var systemSeconds: Double
    /// Voluntary plus involuntary context switches: a thread that sleeps to wait for a socket and is woken again
    /// costs one each time, so they count the thread hops of a round trip.
    var contextSwitches: Int

    static func now() -> ProcessUsage {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else {
            return ProcessUsage(userSeconds: 0, systemSeconds: 0, contextSwitches: 0)
        }
        return ProcessUsage(
            userSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            systemSeconds: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6,
            contextSwitches: usage.ru_nvcsw + usage.ru_nivcsw)
    }
}

/// Seconds since `start`, as a Double.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let (whole, attoseconds) = (ContinuousClock.now - start).components
    return Double(whole) + Double(attoseconds) / 1e18
}
