import Foundation
import MemoryStore
import Queue
import Support

/// Item 8: the job queue's own overhead. Trivially small jobs (one query each, for a user with no messages, so the
/// store does next to nothing) drained by 1, 2 and 4 `worker drain --until-empty` processes, next to pgbench running
/// the queue's own claim and finish statements (and the finished job's `NOTIFY`) against the same tables with as
/// many clients.
struct QueueResult: Codable, Sendable {
    /// One drain of the whole queue, by the worker's drains or by pgbench.
    struct Run: Codable, Sendable {
        /// Jobs per second from the first claim to the last finish, by the queue's own timestamps (the server's
        /// clock): the same measure for both sides, without process start and end.
        var jobsPerSecond: Double
        /// From the first process's start to the last one's end.
        var processSeconds: Double
        /// User + system CPU time of the client processes, start and end included.
        var clientCPUSeconds: Double
        /// The most server connections of the clients (by `application_name`) seen in `pg_stat_activity`, sampled
        /// every 50 ms while they ran.
        var peakServerConnections: Int
    }

    struct Cell: Codable, Sendable {
        /// Drain processes, and pgbench clients.
        var processes: Int
        var worker: [Run]
        var pgbench: [Run]
        /// The best run of each side, by jobs per second, and their ratio.
        var bestWorker: Run
        var bestPgbench: Run
        var ratio: Double
    }

    var jobs: Int
    var parallelJobsPerDrain: Int
    var poolSize: Int
    var maxOverflow: Int
    /// The size of the report a finished job carries into the queue (the worker's own, which pgbench sends too).
    var reportBytes: Int
    /// `worker enqueue` of all the jobs, process start to end (validation, one transaction), each time.
    var enqueueSeconds: [Double]
    var cells: [Cell]
}

struct QueueSection: Sendable {
    let worker: WorkerRunner
    let tools: PostgresTools
    let admin: AdminConnection
    /// The store and its queue tables: `bench_<timestamp>_queue`, dropped after.
    let schema: String

    private let jobs = 600
    private let processCounts = [1, 2, 4]
    private let rounds = 2
    /// One job at a time per drain, so a drain claims like one pgbench client.
    private let parallelJobs = 1
    /// A claim, the job's one query and a finish follow each other; the heartbeat may need the second connection.
    private let poolSize = 2
    private let maxOverflow = 0
    private let visibilityTimeout = 60
    private let applicationName = "mw-bench-queue"

    func run() async throws -> QueueResult {
        let jobFile = try writeJobs()
        let config = try worker.writeConfig(name: "queue.config.yaml", poolSize: poolSize, maxOverflow: maxOverflow)
        // Untimed: creates the store and the queue tables, so every timed enqueue finds them.
        _ = try await enqueue(jobFile, config: config, batch: "warm-up")
        var enqueueSeconds: [Double] = []
        var report: String?
        var cells: [QueueResult.Cell] = []
        for processes in processCounts {
            var ours: [QueueResult.Run] = []
            var theirs: [QueueResult.Run] = []
            // Alternating rounds, so a neighbour's burst cannot decide the ratio alone.
            for round in 1...rounds {
                enqueueSeconds.append(try await enqueue(jobFile, config: config, batch: "drains-\(processes)-\(round)"))
                ours.append(try await drain(processes: processes, config: config, label: "\(processes)-\(round)"))
                let jobReport: String
                if let report {
                    jobReport = report
                } else {
                    jobReport = try await admin.text(
                        "SELECT report::text FROM \(schema).queue_jobs WHERE state = 'done' ORDER BY id LIMIT 1")
                    report = jobReport
                }
                enqueueSeconds.append(
                    try await enqueue(jobFile, config: config, batch: "pgbench-\(processes)-\(round)"))
                theirs.append(try await pgbench(clients: processes, report: jobReport, label: "\(processes)-\(round)"))
            }
            guard let bestOurs = ours.max(by: { $0.jobsPerSecond < $1.jobsPerSecond }),
                let bestTheirs = theirs.max(by: { $0.jobsPerSecond < $1.jobsPerSecond })
            else { throw BenchError("the queue item did not run") }
            cells.append(
                QueueResult.Cell(
                    processes: processes, worker: ours, pgbench: theirs, bestWorker: bestOurs, bestPgbench: bestTheirs,
                    ratio: bestOurs.jobsPerSecond / bestTheirs.jobsPerSecond))
        }
        return QueueResult(
            jobs: jobs, parallelJobsPerDrain: parallelJobs, poolSize: poolSize, maxOverflow: maxOverflow,
            reportBytes: report?.utf8.count ?? 0, enqueueSeconds: enqueueSeconds, cells: cells)
    }

    /// One job file of `jobs` query jobs, each one inline query for a user the store has never seen.
    private func writeJobs() throws -> URL {
        let url = worker.directory.appendingPathComponent("queue-jobs.yaml")
        var text = "jobs:\n"
        for index in 1...jobs {
            text += "  - {name: q\(index), kind: query, user: nobody, queries: [anything], concurrency: 1}\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Empties the queue, then `worker enqueue`s the job file; returns the enqueue's wall time. The queue's tables are
    /// vacuumed and analyzed after, untimed, so that both sides claim from tables in the same state.
    private func enqueue(_ jobFile: URL, config: URL, batch: String) async throws -> Double {
        let tables = ["queue_attempts", "queue_jobs", "queue_batches", "queue_drains"].map { "\(schema).\($0)" }
        if try await admin.integer("SELECT count(*) FROM pg_namespace WHERE nspname = '\(schema)'") == 1 {
            try await admin.execute("TRUNCATE \(tables.joined(separator: ", "))")
        }
        let child = try await Subprocess.run(
            executable: worker.executable,
            arguments: ["enqueue", "--config", config.path, "--batch", batch, jobFile.path],
            environment: environment(applicationName: applicationName + "-enqueue"),
            logPrefix: worker.directory.appendingPathComponent("worker-enqueue-\(batch)"))
        guard child.succeeded else {
            throw BenchError("worker enqueue ended with \(child.ending):\n\(child.standardErrorTail())")
        }
        try await admin.execute("VACUUM ANALYZE \(tables.joined(separator: ", "))")
        return child.wallSeconds
    }

    /// `processes` drains at once, each with an application name of its own, until the queue is empty.
    private func drain(processes: Int, config: URL, label: String) async throws -> QueueResult.Run {
        let started = ContinuousClock.now
        let (children, peak) = try await sampling(applicationNames: applicationName + "-drain-%") {
            try await withThrowingTaskGroup(of: ChildProcess.self) { group in
                for index in 1...processes {
                    group.addTask {
                        try await Subprocess.run(
                            executable: worker.executable,
                            arguments: [
                                "drain", "--config", config.path, "--until-empty", "--parallel-jobs", "\(parallelJobs)",
                                "--quiet",
                            ],
                            environment: environment(applicationName: "\(applicationName)-drain-\(index)"),
                            logPrefix: worker.directory.appendingPathComponent("worker-drain-\(label)-\(index)"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let wall = (ContinuousClock.now - started).seconds
        if let failed = children.first(where: { !$0.succeeded }) {
            // With --quiet the drain prints its failures on stdout, the report's table, and its logs on stderr.
            let report = failed.standardOutput().split(separator: "\n").suffix(12).joined(separator: "\n")
            throw BenchError("worker drain ended with \(failed.ending):\n\(report)\n\(failed.standardErrorTail())")
        }
        return QueueResult.Run(
            jobsPerSecond: try await queueRate(), processSeconds: wall,
            clientCPUSeconds: children.reduce(0) { $0 + $1.userCPUSeconds + $1.systemCPUSeconds },
            peakServerConnections: peak)
    }

    /// pgbench with `clients` clients, each registered as a drain, running the queue's claim and finish statements
    /// as the worker sends them (prepared, the claim's row read back with `\gset`), then the finished job's `NOTIFY`,
    /// as many times in all as there are jobs.
    private func pgbench(clients: Int, report: String, label: String) async throws -> QueueResult.Run {
        let firstDrain = try await admin.integer(
            """
            WITH registered AS (
                INSERT INTO \(schema).queue_drains (host, pid, application_name)
                SELECT 'pgbench', 0, 'pgbench' FROM generate_series(1, \(clients)) RETURNING id
            )
            SELECT min(id) FROM registered
            """)
        let script = worker.directory.appendingPathComponent("queue.pgbench")
        try pgbenchScript(firstDrain: firstDrain).write(to: script, atomically: true, encoding: .utf8)
        let (result, peak) = try await sampling(applicationNames: "pgbench") {
            try await tools.pgbench(
                script: script, mode: "prepared", clients: clients, threads: min(clients, 2),
                transactionsPerClient: jobs / clients, variables: ["report": report],
                log: "pgbench-queue-\(label)")
        }
        return QueueResult.Run(
            jobsPerSecond: try await queueRate(), processSeconds: result.wallSeconds ?? 0,
            clientCPUSeconds: result.clientCPUSeconds ?? 0, peakServerConnections: peak)
    }

    /// The claim and finish statements as ``JobQueue`` sends them, with pgbench variables for their parameters: the
    /// drain (one per client), the job and attempt the claim returned, the report; a job done, as the worker's were.
    private func pgbenchScript(firstDrain: Int) throws -> String {
        let statements = try QueueSchema(store: MemoryStore(schema: schema))
        let claim = try substitute(
            statements.claimStatement, ["$1::int8": "(:drain)::int8", "$2::float8": "\(visibilityTimeout)::float8"])
        let finish = try substitute(
            statements.finishStatement,
            [
                "$1::int8": "(:c_id)::int8", "$2::int8": "(:drain)::int8", "$3::text": "'done'::text",
                "$4::int": "0::int", "$5::float8": "0::float8", "$6::text": "NULL::text",
                "$7::jsonb": "(:report)::jsonb", "$8::int": "(:c_attempts)::int", "$9::text": "'done'::text",
            ])
        return """
            \\set drain \(firstDrain) + :client_id
            \(claim) \\gset c_
            \(finish);
            SELECT pg_notify('\(statements.channel)', 'finished');

            """
    }

    private func substitute(_ sql: String, _ values: [String: String]) throws -> String {
        var result = sql
        for (placeholder, value) in values {
            guard result.contains(placeholder) else {
                throw BenchError("the queue's SQL no longer uses \(placeholder); update QueueSection")
            }
            result = result.replacingOccurrences(of: placeholder, with: value)
        }
        guard result.firstMatch(of: /\$[0-9]/) == nil else {
            throw BenchError("the queue's SQL has a parameter QueueSection does not fill; update QueueSection")
        }
        return result
    }

    /// Checks that every job was done exactly once, and returns the jobs per second from the first claim to the
    /// last finish.
    private func queueRate() async throws -> Double {
        let done = try await admin.integer("SELECT count(*) FROM \(schema).queue_jobs WHERE state = 'done'")
        let attempts = try await admin.integer("SELECT count(*) FROM \(schema).queue_attempts")
        guard done == jobs, attempts == jobs else {
            throw BenchError("\(done) of \(jobs) jobs done, in \(attempts) attempts; expected each done once")
        }
        let span = try await admin.text(
            "SELECT extract(epoch FROM max(finished_at) - min(claimed_at))::text FROM \(schema).queue_jobs")
        guard let seconds = Double(span), seconds > 0 else { throw BenchError("the queue's jobs took \(span) s") }
        return Double(jobs) / seconds
    }

    /// Runs `body` while sampling the server connections whose `application_name` is LIKE `pattern`; its result and
    /// their peak.
    private func sampling<T: Sendable>(
        applicationNames pattern: String, _ body: () async throws -> T
    ) async throws -> (T, Int) {
        let sampler = Task { [admin] in
            var peak = 0
            while !Task.isCancelled {
                let count = try await admin.integer(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name LIKE '\(pattern)'
                    """)
                peak = max(peak, count)
                try? await Task.sleep(for: .milliseconds(50))
            }
            return peak
        }
        do {
            let result = try await body()
            sampler.cancel()
            return (result, try await sampler.value)
        } catch {
            sampler.cancel()
            _ = try? await sampler.value
            throw error
        }
    }

    private func environment(applicationName: String) -> [String: String] {
        childEnvironment(
            databaseURL: worker.databaseURL,
            adding: ["WORKER_STORE_SCHEMA": schema, "POSTGRES_APPLICATION_NAME": applicationName])
    }
}
