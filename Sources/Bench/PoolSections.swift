import Batch
import Foundation
import Support

/// Item 1: the pool round trip against pgbench running the same statement over the same database.
struct RoundTripResult: Codable, Sendable {
    var leases: Int
    var tasks: Int
    var maxSize: Int
    /// Leases per second of each round; the best is the result, as it is for pgbench.
    var samples: [Double]
    var leasesPerSecond: Double
    /// The bench process's CPU time per lease (tasks, pool, libpq, reactor), least of the rounds: the client's cost,
    /// which on a machine this small is taken from the server's CPUs. pgbench's is in its results.
    var userCPUMicrosecondsPerLease: Double
    var systemCPUMicrosecondsPerLease: Double
    /// The bench process's context switches per lease, least of the rounds.
    var contextSwitchesPerLease: Double
    /// Heap allocations per lease in the whole bench process (tasks, pool, connection, reactor), least of the rounds.
    var allocationsPerLease: Double
    /// The server's CPU time per transaction (all its processes), median of the rounds, for ours and each pgbench
    /// mode; nil when the server is not on this machine. On two CPUs the server's cost and the client's share them.
    var serverCPUMicroseconds: ServerCPUPerTransaction?
    /// Transactions per second of each round.
    var pgbenchExtendedSamples: [Double]
    var pgbenchPreparedSamples: [Double]
    var pgbenchExtended: PgbenchResult
    var pgbenchPrepared: PgbenchResult
    var ratioExtended: Double
    var ratioPrepared: Double
    /// The same ratios of the rounds' medians: context for the best-of ratios above, which a lucky round moves (pgbench
    /// `-M prepared` runs at about 80k or about 120k tps on the same machine, round by round).
    var medianRatioExtended: Double
    var medianRatioPrepared: Double
    /// The pool must keep up with pgbench's extended protocol (a parse per statement, as ours before its cache)...
    var targetExtended = 1.0
    /// ...and aims at 0.8 of its prepared protocol (parsed once per connection, as ours with its cache).
    var targetPrepared = 0.8
}

/// The server's CPU time per transaction, in microseconds, for each client of item 1.
struct ServerCPUPerTransaction: Codable, Sendable {
    var ours: Double
    var pgbenchExtended: Double
    var pgbenchPrepared: Double
}

/// Item 2: leases per second for each pool size and number of tasks.
struct ScalingResult: Codable, Sendable {
    struct Cell: Codable, Sendable {
        var maxSize: Int
        var tasks: Int
        var leasesPerSecond: Double
    }

    var leasesPerCell: Int
    /// Each cell is the best of this many runs.
    var runsPerCell: Int
    var sizes: [Int]
    var tasks: [Int]
    var cells: [Cell]
    /// Why the state machine alone is not measured.
    var stateMachine: StateMachineResult
}

/// Item 3: many slow statements at once must overlap, not queue behind each other.
struct NonBlockingResult: Codable, Sendable {
    var sessions: Int
    var sleepSeconds: Double
    var trialsSeconds: [Double]
    var worstSeconds: Double
    var target = 0.35
}

/// Items 1 to 3, which need only a database.
struct PoolSections: Sendable {
    let bench: PoolBench
    let tools: PostgresTools
    let directory: URL
    /// Rounds of item 1. Each round runs the pool, pgbench extended and pgbench prepared back to back, so all three
    /// see the same background load; the best of each is compared, which keeps a noisy neighbour out of the ratio.
    let rounds = 5

    func roundTrip() async throws -> RoundTripResult {
        let (leases, tasks, size) = (20_000, 64, 10)
        let script = directory.appendingPathComponent("round-trip.pgbench")
        try "\\set x random(1, 1000)\nSELECT :x::int + 1;\n".write(to: script, atomically: true, encoding: .utf8)
        var samples: [Double] = []
        var cpuPerLease: [(user: Double, system: Double)] = []
        var switchesPerLease: [Double] = []
        var allocationsPerLease: [Double] = []
        var extended: [PgbenchResult] = []
        var prepared: [PgbenchResult] = []
        var serverCPU: (ours: [Double], extended: [Double], prepared: [Double]) = ([], [], [])
        try await bench.withWarmPool(size: size) { pool in
            try await bench.warmUp(pool, size: size)
            _ = try await pgbench(script, mode: "extended", perClient: 100, log: "pgbench-warm-up")
            let server = pool.openedConnections.first.flatMap { ServerCPU(backendPID: $0.serverPIDAtConnect) }
            /// Runs `body` and records the server's CPU per transaction while it ran.
            func measured<Value>(_ list: inout [Double], _ body: () async throws -> Value) async rethrows -> Value {
                let before = server?.seconds()
                let value = try await body()
                if let server, let before { list.append((server.seconds() - before) / Double(leases) * 1e6) }
                return value
            }
            for round in 1...rounds {
                let timing = try await measured(&serverCPU.ours) {
                    try await bench.timeLeases(on: pool, tasks: tasks, leases: leases)
                }
                samples.append(Double(leases) / timing.seconds)
                cpuPerLease.append(
                    (
                        user: timing.userSeconds / Double(leases) * 1e6,
                        system: timing.systemSeconds / Double(leases) * 1e6
                    ))
                switchesPerLease.append(Double(timing.contextSwitches) / Double(leases))
                allocationsPerLease.append(Double(timing.allocations) / Double(leases))
                extended.append(
                    try await measured(&serverCPU.extended) {
                        try await pgbench(
                            script, mode: "extended", perClient: leases / 10, log: "pgbench-extended-\(round)")
                    })
                prepared.append(
                    try await measured(&serverCPU.prepared) {
                        try await pgbench(
                            script, mode: "prepared", perClient: leases / 10, log: "pgbench-prepared-\(round)")
                    })
            }
        }
        let leastCPU = cpuPerLease.min { $0.user + $0.system < $1.user + $1.system }
        guard let ours = samples.max(), let bestExtended = extended.max(by: { $0.tps < $1.tps }),
            let bestPrepared = prepared.max(by: { $0.tps < $1.tps })
        else { throw BenchError("the round trip did not run") }
        return RoundTripResult(
            leases: leases, tasks: tasks, maxSize: size, samples: samples, leasesPerSecond: ours,
            userCPUMicrosecondsPerLease: leastCPU?.user ?? 0, systemCPUMicrosecondsPerLease: leastCPU?.system ?? 0,
            contextSwitchesPerLease: switchesPerLease.min() ?? 0, allocationsPerLease: allocationsPerLease.min() ?? 0,
            serverCPUMicroseconds: serverCPU.ours.isEmpty
                ? nil
                : ServerCPUPerTransaction(
                    ours: median(serverCPU.ours), pgbenchExtended: median(serverCPU.extended),
                    pgbenchPrepared: median(serverCPU.prepared)),
            pgbenchExtendedSamples: extended.map(\.tps), pgbenchPreparedSamples: prepared.map(\.tps),
            pgbenchExtended: bestExtended, pgbenchPrepared: bestPrepared, ratioExtended: ours / bestExtended.tps,
            ratioPrepared: ours / bestPrepared.tps,
            medianRatioExtended: median(samples) / median(extended.map(\.tps)),
            medianRatioPrepared: median(samples) / median(prepared.map(\.tps)))
    }

    /// The rounds' median, by nearest rank as the reports' p50.
    private func median(_ values: [Double]) -> Double {
        PoolUsage.Percentiles.of(values.sorted()).p50
    }

    /// pgbench as item 1 runs it: 10 clients on 2 threads, as many transactions in all as the pool's leases.
    private func pgbench(_ script: URL, mode: String, perClient: Int, log: String) async throws -> PgbenchResult {
        try await tools.pgbench(
            script: script, mode: mode, clients: 10, threads: 2, transactionsPerClient: perClient, log: log)
    }

    func scaling() async throws -> ScalingResult {
        let (sizes, taskCounts, leases) = ([1, 2, 4, 8, 16], [1, 16, 64, 256], 5000)
        var cells: [ScalingResult.Cell] = []
        for size in sizes {
            try await bench.withWarmPool(size: size) { pool in
                try await bench.warmUp(pool, size: size)
                for tasks in taskCounts {
                    // Best of three: a cell lasts a fraction of a second, long enough for a neighbour to spoil one run.
                    var best = 0.0
                    for _ in 0..<3 {
                        let timing = try await bench.timeLeases(on: pool, tasks: tasks, leases: leases)
                        best = max(best, Double(leases) / timing.seconds)
                    }
                    cells.append(.init(maxSize: size, tasks: tasks, leasesPerSecond: best))
                }
            }
        }
        return ScalingResult(
            leasesPerCell: leases, runsPerCell: 3, sizes: sizes, tasks: taskCounts, cells: cells,
            stateMachine: StateMachineBench.run())
    }

    func nonBlocking() async throws -> NonBlockingResult {
        let (sessions, sleep) = (64, 0.2)
        var trials: [Double] = []
        try await bench.withWarmPool(size: sessions) { pool in
            // An untimed round first: each of the 64 leases holds its connection for the whole sleep, so every
            // connection serves one and prepares the statement.
            let sql = "SELECT pg_sleep(\(sleep))"
            _ = try await bench.timeConcurrent(on: pool, sessions: sessions, sql: sql)
            for _ in 0..<3 {
                trials.append(try await bench.timeConcurrent(on: pool, sessions: sessions, sql: sql))
            }
        }
        return NonBlockingResult(
            sessions: sessions, sleepSeconds: sleep, trialsSeconds: trials, worstSeconds: trials.max() ?? 0)
    }
}
