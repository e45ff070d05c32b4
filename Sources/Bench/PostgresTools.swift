import Foundation

/// pgbench and psql of the machine's PostgreSQL, run as child processes against the database under test.
struct PostgresTools: Sendable {
    var pgbench: String
    var psql: String
    /// Where the bench keeps the tools' output files.
    var logDirectory: URL
    var databaseURL: String

    /// Finds the tools: `$PG_BINDIR` (set by scripts/bench), else the newest `/usr/lib/postgresql/*/bin`, else `PATH`.
    static func locate(databaseURL: String, logDirectory: URL) throws -> PostgresTools {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let directory = environment["PG_BINDIR"], !directory.isEmpty { candidates.append(directory) }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        candidates += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        guard
            let directory = candidates.first(where: {
                FileManager.default.isExecutableFile(atPath: $0 + "/pgbench")
                    && FileManager.default.isExecutableFile(atPath: $0 + "/psql")
            })
        else {
            throw BenchError(
                "pgbench and psql not found (set PG_BINDIR, or install postgresql: it ships both in /usr/lib/postgresql)"
            )
        }
        return PostgresTools(
            pgbench: directory + "/pgbench", psql: directory + "/psql", logDirectory: logDirectory,
            databaseURL: databaseURL)
    }

    /// `pgbench --version`, e.g. `pgbench (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`.
    func pgbenchVersion() async throws -> String {
        let child = try await run(pgbench, ["--version"], log: "pgbench-version")
        return child.standardOutput().trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a pgbench script without vacuum (`-n`): `clients` connections over `threads` threads, each running
    /// `transactionsPerClient` transactions, statements sent with `mode` (`simple`, `extended` or `prepared`);
    /// `variables` are the script's `-D` variables, which prepared mode binds as parameters.
    func pgbench(
        script: URL,
        mode: String,
        clients: Int,
        threads: Int,
        transactionsPerClient: Int,
        variables: [String: String] = [:],
        log: String
    ) async throws -> PgbenchResult {
        let defines = variables.sorted { $0.key < $1.key }.flatMap { ["-D", "\($0.key)=\($0.value)"] }
        let arguments =
            [
                "-n", "-c", "\(clients)", "-j", "\(threads)", "-M", mode, "-t", "\(transactionsPerClient)",
                "-f", script.path,
            ] + defines + [databaseURL]
        let child = try await run(pgbench, arguments, log: log)
        var result = try PgbenchResult(
            output: child.standardOutput(), mode: mode, clients: clients, threads: threads,
            expected: clients * transactionsPerClient)
        result.clientCPUSeconds = child.userCPUSeconds + child.systemCPUSeconds
        result.wallSeconds = child.wallSeconds
        result.clientContextSwitches = child.contextSwitches
        return result
    }

    /// Runs one psql command (a meta-command such as `\copy` too) and returns the child, whose wall time is the
    /// command's time plus psql's start and connection, a few milliseconds.
    func psql(_ command: String, log: String) async throws -> ChildProcess {
        try await run(psql, [databaseURL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", command], log: log)
    }

    private func run(_ executable: String, _ arguments: [String], log: String) async throws -> ChildProcess {
        let child = try await Subprocess.run(
            executable: executable, arguments: arguments, environment: childEnvironment(databaseURL: databaseURL),
            logPrefix: logDirectory.appendingPathComponent(log))
        guard child.succeeded else {
            let name = URL(fileURLWithPath: executable).lastPathComponent
            throw BenchError("\(name) ended with \(child.ending):\n\(child.standardErrorTail())")
        }
        return child
    }
}

/// What pgbench reported for one run.
struct PgbenchResult: Codable, Sendable {
    var mode: String
    var clients: Int
    var threads: Int
    var transactions: Int
    /// Transactions per second without the initial connection time, as pgbench prints it.
    var tps: Double
    var latencyAverageMs: Double?
    /// pgbench's own CPU time (user + system, from `wait4`), connections and start-up included.
    var clientCPUSeconds: Double?
    /// pgbench's context switches (from `wait4`).
    var clientContextSwitches: Int?
    /// pgbench's process, start to end, connections included.
    var wallSeconds: Double?

    /// pgbench's CPU time per transaction in microseconds.
    var cpuMicrosecondsPerTransaction: Double? { clientCPUSeconds.map { $0 / Double(transactions) * 1e6 } }

    /// Reads pgbench's summary; a run that processed fewer transactions than asked for (failed ones) is an error.
    init(output: String, mode: String, clients: Int, threads: Int, expected: Int) throws {
        func value(after prefix: String) -> Substring? {
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
            return line.dropFirst(prefix.count).split(separator: " ").first
        }
        guard let tpsText = value(after: "tps = "), let tps = Double(tpsText) else {
            throw BenchError("no 'tps = ' line in pgbench's output:\n\(output)")
        }
        let processed = value(after: "number of transactions actually processed: ")
            .flatMap { $0.split(separator: "/").first }.flatMap { Int($0) }
        guard processed == expected else {
            throw BenchError("pgbench processed \(processed.map(String.init) ?? "?") of \(expected) transactions")
        }
        self.mode = mode
        self.clients = clients
        self.threads = threads
        transactions = expected
        self.tps = tps
        latencyAverageMs = value(after: "latency average = ").flatMap { Double($0) }
    }
}
