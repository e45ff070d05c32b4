import ArgumentParser
import ConnectionPool
import Foundation
import PoolConfiguration
import Postgres
import Settings
import Support

/// `worker doctor`: the pool's scenarios (one manager, shared pools, settings applied, no leak, a stable connection
/// count over many jobs), run live against the configured database, one ✅ or ❌ line each.
///
/// Unit tests prove the pool against the test cluster; this proves it against the database a deployment actually
/// uses (its `max_connections`, its PgBouncer, its settings), before a batch finds out the hard way. The doctor's
/// connections carry an `application_name` of their own, so the server-side counts see this run and nothing else.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Checks the shared connection pool live against the configured database (sharing, limits, leaks).",
        discussion: """
            Checks: the manager is a singleton; holders share one pool whose server connections stay within \
            max_size; the pool uses the configured settings; released holders leave no pool and no server \
            connection; repeated jobs keep the connection count stable. Exit status: 0 if every check passes, 1 if \
            one fails, 75 if the database cannot be reached, 2 on invalid settings or refused credentials.
            """
    )

    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        let loaded = try settings.load()
        let doctor = Doctor(
            configuration: loaded.connection, pool: loaded.pool, applicationName: "memory-worker-doctor-\(getpid())")
        printError(
            "worker doctor: \(doctor.configuration.maskedURL) as application_name \(doctor.applicationName); pool "
                + "min_size \(loaded.pool.minSize), max_size \(loaded.pool.maxSize), "
                + "timeout \(format(loaded.pool.acquireTimeout.seconds)) s, "
                + "recycle \(format(loaded.pool.maxLifetime?.seconds ?? 0)) s")
        do {
            _ = try await doctor.serverConnections()
            if try await doctor.throughPooler() {
                printError(
                    "worker doctor: through a connection pooler: the server's counts below are of the pooler's server "
                        + "connections, which it keeps open and lends to every client by design; the leak check of "
                        + "worker run checks the client's side and the pooler's client list instead")
            }
        } catch {
            printError("worker: doctor: cannot reach the database: \(doctor.configuration.redact("\(error)"))")
            throw ExitCode.cannotConnect(error)
        }
        var failed = 0
        for check in Doctor.Check.allCases {
            let outcome = await doctor.run(check)
            if !outcome.passed { failed += 1 }
            let line = "\(outcome.passed ? "✅" : "❌") \(check.rawValue): \(outcome.detail)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        let total = Doctor.Check.allCases.count
        printError("worker doctor: \(total - failed) of \(total) checks passed")
        if failed > 0 { throw ExitCode.failure }
    }
}

/// The scenarios, each on a fresh ``GlobalConnectionManager`` (but the singleton check), so one cannot hide or
/// cause another's leak. What a check looks at can be handed in (the shared manager, the manager a check runs on),
/// so each check can be shown to fail.
struct Doctor: Sendable {
    enum Check: String, CaseIterable {
        case singleton
        case poolSharing = "pool sharing"
        case configurationApplied = "configuration applied"
        case leakPrevention = "leak prevention"
        case stableOverJobs = "connection count stable over 10 jobs"
    }

    struct Outcome {
        var passed: Bool
        var detail: String
    }

    /// The configured connection under the doctor's own `application_name`.
    let configuration: ConnectionConfiguration
    let pool: PoolSettings
    let applicationName: String
    /// What the singleton check asks for the process's manager.
    let sharedManager: @Sendable () -> GlobalConnectionManager
    /// How long the server may take to let closed connections go before a check counts them as left.
    let settle: Duration

    init(
        configuration: ConnectionConfiguration,
        pool: PoolSettings,
        applicationName: String,
        sharedManager: @escaping @Sendable () -> GlobalConnectionManager = { .shared },
        settle: Duration = .seconds(5)
    ) {
        var configuration = configuration
        configuration["application_name"] = applicationName
        self.configuration = configuration
        self.pool = pool
        self.applicationName = applicationName
        self.sharedManager = sharedManager
        self.settle = settle
    }

    /// Runs one check on `manager` (a fresh one by default); an error becomes a failed outcome, and any pool the
    /// check left open is closed.
    func run(_ check: Check, on manager: GlobalConnectionManager = GlobalConnectionManager()) async -> Outcome {
        let outcome: Outcome
        do {
            switch check {
            case .singleton: outcome = await singleton()
            case .poolSharing: outcome = try await poolSharing(manager)
            case .configurationApplied: outcome = await configurationApplied(manager)
            case .leakPrevention: outcome = try await leakPrevention(manager)
            case .stableOverJobs: outcome = try await stableOverJobs(manager)
            }
        } catch {
            outcome = Outcome(passed: false, detail: "error: \(configuration.redact("\(error)"))")
        }
        await manager.closeAll(force: true)
        return outcome
    }

    // MARK: Checks

    /// `shared` is one object, also when many tasks reach for it at once.
    func singleton() async -> Outcome {
        // The managers themselves are kept until compared: a freed object's identifier may be reused.
        let managers = await withTaskGroup(of: GlobalConnectionManager.self) { [sharedManager] group in
            for _ in 0..<16 { group.addTask { sharedManager() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let identities = Set(managers.map(ObjectIdentifier.init))
        return Outcome(
            passed: identities.count == 1,
            detail: identities.count == 1
                ? "GlobalConnectionManager.shared is the same object in 16 concurrent tasks"
                : "GlobalConnectionManager.shared is \(identities.count) different objects in 16 concurrent tasks")
    }

    /// Five holders get one pool, and 50 concurrent leases never put more than `max_size` connections on the server.
    func poolSharing(_ manager: GlobalConnectionManager) async throws -> Outcome {
        let references = (1...5).map { manager.pool(for: configuration, settings: pool, holder: "doctor-holder-\($0)") }
        let pools = Set(references.map { ObjectIdentifier($0.pool) })
        let referencesCounted = manager.statistics[references[0].pool.target]?.activeReferences ?? 0
        let server = try await peakServerConnections {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for reference in references {
                    for _ in 0..<10 {
                        group.addTask {
                            try await reference.pool.withConnection(holder: reference.holder) { connection in
                                _ = try await connection.query("SELECT pg_sleep(0.05)")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let peakLeased = references[0].pool.statistics.peakLeased
        for reference in references { await manager.release(reference) }
        let passed = pools.count == 1 && referencesCounted == 5 && server.samples > 0 && server.peak <= pool.maxSize
        return Outcome(
            passed: passed,
            detail:
                "5 holders share \(pools.count) pool(s), which counts \(referencesCounted) references; 50 leases of "
                + "pg_sleep(0.05) peaked at \(server.peak) server connections over \(server.samples) samples "
                + "(\(peakLeased) leased at once; max_size \(pool.maxSize))")
    }

    /// The pool's statistics report the settings the configuration asked for.
    func configurationApplied(_ manager: GlobalConnectionManager) async -> Outcome {
        let reference = manager.pool(for: configuration, settings: pool, holder: "doctor-configuration")
        let statistics = manager.statistics[reference.pool.target]
        await manager.release(reference)
        guard let statistics else {
            return Outcome(passed: false, detail: "the manager reports no statistics for \(reference.pool.target)")
        }
        let expected = (pool.minSize, pool.maxSize, pool.acquireTimeout.seconds, pool.maxLifetime?.seconds ?? 0)
        let actual = (statistics.minSize, statistics.maxSize, statistics.timeout, statistics.recycle)
        return Outcome(
            passed: expected == actual,
            detail: "pool reports min_size \(actual.0), max_size \(actual.1), timeout \(format(actual.2)) s, recycle "
                + "\(format(actual.3)) s; configured \(expected.0), \(expected.1), \(format(expected.2)) s, "
                + "\(format(expected.3)) s")
    }

    /// A hundred holders made and released at once, one lease each, leave no pool, reference, lease or connection.
    func leakPrevention(_ manager: GlobalConnectionManager) async throws -> Outcome {
        let pools = Locked(Set<ObjectIdentifier>())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 1...100 {
                group.addTask { [configuration, pool] in
                    let reference = manager.pool(for: configuration, settings: pool, holder: "doctor-leak-\(index)")
                    pools.withLock { _ = $0.insert(ObjectIdentifier(reference.pool)) }
                    do {
                        try await reference.pool.withConnection(holder: reference.holder) { connection in
                            _ = try await connection.query("SELECT 1")
                        }
                    } catch {
                        await manager.release(reference)
                        throw error
                    }
                    await manager.release(reference)
                }
            }
            try await group.waitForAll()
        }
        let remainingPools = manager.statistics.count
        let report = manager.leakReport()
        let server = try await waitForServerConnections()
        return Outcome(
            passed: remainingPools == 0 && report.isClean && server == 0,
            detail: "100 holders (\(pools.withLock { $0.count }) pool(s) over their lifetime) left \(remainingPools) "
                + "pool(s), \(report.activeReferences.count) reference(s), \(report.outstandingLeases.count) "
                + "lease(s) and \(server) server connection(s)")
    }

    /// Ten jobs in a row, each taking a reference, leasing 20 times from 8 tasks and releasing, end at zero server
    /// connections each time and never exceed `max_size` meanwhile.
    func stableOverJobs(_ manager: GlobalConnectionManager) async throws -> Outcome {
        var peak = 0
        var afterRounds: [Int] = []
        for round in 1...10 {
            let reference = manager.pool(for: configuration, settings: pool, holder: "doctor-job-\(round)")
            let server = try await peakServerConnections {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<8 {
                        group.addTask {
                            // Leases task, task + 8, task + 16 below 20: 20 leases over 8 tasks.
                            for _ in stride(from: task, to: 20, by: 8) {
                                try await reference.pool.withConnection(holder: reference.holder) { connection in
                                    _ = try await connection.query("SELECT pg_sleep(0.01)")
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            await manager.release(reference)
            peak = max(peak, server.peak)
            afterRounds.append(try await waitForServerConnections())
        }
        return Outcome(
            passed: afterRounds.allSatisfy { $0 == 0 } && peak <= pool.maxSize,
            detail: "server connections after each job: \(afterRounds.map(String.init).joined(separator: " ")); "
                + "peak \(peak) during (max_size \(pool.maxSize))")
    }

    // MARK: The server's side

    /// Whether a connection pooler sits between the doctor and the server (``PostgresConnection/throughPooler``),
    /// asked on a connection under the monitor's name, which no count sees.
    func throughPooler() async throws -> Bool {
        var probe = configuration
        probe["application_name"] = applicationName + "-monitor"
        let connection = try await PostgresConnection.connect(probe)
        defer { connection.close() }
        return connection.throughPooler
    }

    /// The doctor's backends on the server (its monitor connection has a name of its own and is not counted).
    func serverConnections() async throws -> Int {
        try await ServerConnectionCount.count(applicationName: applicationName, configuration: configuration)
    }

    /// Runs `work` while counting the doctor's backends on the server; the highest count and the samples taken.
    func peakServerConnections(
        during work: @escaping @Sendable () async throws -> Void
    ) async throws -> (peak: Int, samples: Int) {
        let finished = Locked(false)
        return try await withThrowingTaskGroup(of: (peak: Int, samples: Int).self) { group in
            group.addTask {
                defer { finished.withLock { $0 = true } }
                try await work()
                return (0, 0)
            }
            group.addTask {
                var peak = 0
                var samples = 0
                repeat {
                    peak = max(peak, try await serverConnections())
                    samples += 1
                    try await Task.sleep(for: .milliseconds(5))
                } while !finished.withLock({ $0 })
                return (peak, samples)
            }
            return try await group.reduce((0, 0)) { (max($0.peak, $1.peak), $0.samples + $1.samples) }
        }
    }

    /// The doctor's backends once they reach zero, or after ``settle``.
    func waitForServerConnections() async throws -> Int {
        try await ServerConnectionCount.count(
            applicationName: applicationName, configuration: configuration, settle: settle)
    }
}

/// `30`, `0.5`: seconds as configuration files spell them.
private func format(_ seconds: Double) -> String {
    String(format: "%g", seconds)
}
