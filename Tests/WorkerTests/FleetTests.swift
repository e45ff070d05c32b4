import Foundation
import Postgres
import Support
import Testing

/// Many worker hosts, one database: `worker enqueue`, then several `worker drain` processes (each with its own
/// application name, as separate hosts would have) through a real PgBouncer in transaction mode, against a database
/// of the fleet's own, so the server's connections can be counted without other tests' connections in the count.
@Suite(.serialized) struct FleetTests {
    /// The fleet's database, a PgBouncer in front of it, and a folder of job files.
    struct Fleet {
        let folder: URL
        let database: String
        /// The fleet's database, directly.
        let directURL: String
        let bouncer: PgBouncerProcess
        let admin: PostgresConnection
        /// The workers started in the background, killed at the end whatever the test did.
        let spawned = Locked<[Int32]>([])

        /// Runs `body` with a new fleet and removes it afterwards (its workers, PgBouncer, database and folder),
        /// also when `body` throws.
        static func with(poolSize: Int, _ body: (Fleet) async throws -> Void) async throws {
            let url = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
            let suffix = UInt32.random(in: 0...UInt32.max)
            let database = "fleet_\(suffix)"
            let main = try await PostgresConnection.connect(try ConnectionConfiguration(url))
            defer { main.close() }
            try await main.execute(script: "CREATE DATABASE \(database)")
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-fleet-\(suffix)")
            do {
                for subfolder in ["data", "out"] {
                    try FileManager.default.createDirectory(
                        at: folder.appendingPathComponent(subfolder), withIntermediateDirectories: true)
                }
                var components = try #require(URLComponents(string: url))
                components.path = "/" + database
                let directURL = try #require(components.string)
                try await PgBouncerProcess.with(serverURL: directURL, poolSize: poolSize) { bouncer in
                    let admin = try await PostgresConnection.connect(try ConnectionConfiguration(directURL))
                    let fleet = Fleet(
                        folder: folder, database: database, directURL: directURL, bouncer: bouncer, admin: admin)
                    defer {
                        for pid in fleet.spawned.withLock({ $0 }) { kill(pid, SIGKILL) }
                        admin.close()
                    }
                    try await body(fleet)
                }
            } catch {
                try? FileManager.default.removeItem(at: folder)
                try? await main.execute(script: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
                throw error
            }
            try? FileManager.default.removeItem(at: folder)
            try await main.execute(script: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        }

        func write(_ name: String, _ text: String) throws {
            let url = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }

        /// A config file: the store schema, through PgBouncer (with prepared statements off, which transaction mode
        /// needs) or directly, a small pool per worker, and the queue's timings.
        func config(
            _ name: String, schema: String, throughBouncer: Bool, pollInterval: Double = 0.2,
            visibilityTimeout: Double = 60, shutdownGrace: Double = 30
        ) throws {
            try write(
                name,
                """
                postgres:
                  url: "\(throughBouncer ? bouncer.url : directURL)"
                  prepared_statements: \(!throughBouncer)
                  pool_size: 2
                  max_overflow: 2
                worker:
                  store_schema: \(schema)
                  shutdown_grace: \(shutdownGrace)
                  queue:
                    poll_interval: \(pollInterval)
                    visibility_timeout: \(visibilityTimeout)

                """)
        }

        /// Runs `worker` in the folder, without the test's `DATABASE_URL` (the config file names the database).
        func worker(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> WorkerProcess.Output {
            try await WorkerProcess.run(
                arguments, environment: ["DATABASE_URL": nil], directory: folder, timeout: timeout)
        }

        /// Starts `worker` in the background, as another host would run it.
        func spawn(_ arguments: [String], applicationName: String, log: String) throws -> Process {
            var environment = ProcessInfo.processInfo.environment
            environment["DATABASE_URL"] = nil
            environment["POSTGRES_APPLICATION_NAME"] = applicationName
            let process = Process()
            process.executableURL = try WorkerProcess.executableURL()
            process.arguments = arguments
            process.environment = environment
            process.currentDirectoryURL = folder
            let logURL = folder.appendingPathComponent(log)
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
            let handle = try FileHandle(forWritingTo: logURL)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            spawned.withLock { $0.append(process.processIdentifier) }
            try handle.close()
            return process
        }

        /// The clients' connections to the fleet's database, the admin's own aside. Only client backends: an
        /// autovacuum worker analysing the stores the drains fill also shows in `pg_stat_activity` under the
        /// database's name, and is no connection PgBouncer made (a CI run counted 4 against its 3, likely that).
        func serverConnections() async throws -> Int {
            try await admin.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                """, [database]
            ).rows[0].decode(0, as: Int.self)
        }

        /// Rows in which the two stores differ: the messages as the source said them (not their ids, which depend
        /// on the order they were stored in) and the per-user search statistics.
        func differences(_ left: String, _ right: String) async throws -> Int {
            let tables = [
                ("messages", "user_id, session_id, position, role, content, created_at, source_id, order_key"),
                ("user_statistics", "user_id, document_count, token_count"),
                ("lexeme_statistics", "user_id, lexeme, document_count"),
            ]
            var total = 0
            for (table, columns) in tables {
                total += try await admin.query(
                    """
                    SELECT (SELECT count(*) FROM (SELECT \(columns) FROM \(left).\(table)
                                                  EXCEPT ALL SELECT \(columns) FROM \(right).\(table)) a)
                         + (SELECT count(*) FROM (SELECT \(columns) FROM \(right).\(table)
                                                  EXCEPT ALL SELECT \(columns) FROM \(left).\(table)) b)
                    """
                ).rows[0].decode(0, as: Int.self)
            }
            return total
        }

    }

    /// Waits for every process to exit (at most `timeout`), calling `sample` meanwhile.
    static func wait(
        for processes: [Process], timeout: Duration = .seconds(120), sample: () async throws -> Void = {}
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while processes.contains(where: \.isRunning), ContinuousClock.now < deadline {
            try await sample()
            try await Task.sleep(for: .milliseconds(20))
        }
        for process in processes where process.isRunning { process.terminate() }
        try #require(processes.allSatisfy { !$0.isRunning }, "a worker was still running after \(timeout)")
    }

    /// Ten users' conversations in two overlapping files each (the overlap stored once), and three job files of
    /// ten jobs: two ingests per user, the second after the first (a message in both files keeps its line in the
    /// file stored first, so the order is fixed for the stores to compare equal), and a query job after them.
    static func writeBatch(_ fleet: Fleet) throws -> [String] {
        let words = [
            "sourdough", "starter", "trail", "hike", "database", "pool", "garden", "tomato", "violin", "lesson",
        ]
        var files: [String] = []
        for file in 0..<3 {
            var jobs = "jobs:\n"
            for user in stride(from: file, to: 10, by: 3) {
                let lines = (0..<40).map { index in
                    let content = "\(words[(index * 7 + user) % 10]) and \(words[(index * 3 + user * 5) % 10]) \(index)"
                    let role = index % 2 == 0 ? "user" : "assistant"
                    return
                        #"{"id": "m\#(index)", "user": "u\#(user)", "session": "s\#(index % 3)", "role": "\#(role)", "#
                        + #""content": "\#(content)", "created_at": "2026-11-\#(10 + index % 15)T10:\#(10 + index):00Z"}"#
                }
                try fleet.write("data/u\(user)-a.jsonl", lines[0..<25].joined(separator: "\n") + "\n")
                try fleet.write("data/u\(user)-b.jsonl", lines[15..<40].joined(separator: "\n") + "\n")
                jobs += """
                      - {name: load-u\(user)-a, kind: ingest, source: data/u\(user)-a.jsonl, batch_size: 4}
                      - name: load-u\(user)-b
                        kind: ingest
                        source: data/u\(user)-b.jsonl
                        batch_size: 4
                        depends_on: [load-u\(user)-a]
                      - name: ask-u\(user)
                        kind: query
                        depends_on: [load-u\(user)-b]
                        user: u\(user)
                        queries: [sourdough starter, which trail did I hike, tomato garden lesson]
                        top_k: 4
                        output: out/u\(user).jsonl

                    """
            }
            try fleet.write("jobs\(file).yaml", jobs)
            files.append("jobs\(file).yaml")
        }
        return files
    }

    /// A query output's records by query and rank, without the store's message ids, which depend on the order
    /// messages were stored in. (A job's queries run in parallel, so their records may come in any order.)
    static func hits(_ file: URL) throws -> [NSDictionary] {
        let records = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                .filter { $0.key != "message_ids" }
        }
        return records.sorted { left, right in
            let (leftQuery, rightQuery) = ("\(left["query"] ?? "")", "\(right["query"] ?? "")")
            if leftQuery != rightQuery { return leftQuery < rightQuery }
            return (left["rank"] as? Int ?? 0) < (right["rank"] as? Int ?? 0)
        }.map { $0 as NSDictionary }
    }

    @Test func threeDrainsThroughPgBouncerDoEveryJobOnceAndMatchASingleRun() async throws {
        let poolSize = 3
        try await Fleet.with(poolSize: poolSize) { fleet in
            let files = try Self.writeBatch(fleet)
            try fleet.config("direct.yaml", schema: "single", throughBouncer: false)
            try fleet.config("fleet.yaml", schema: "fleet", throughBouncer: true)

            let single = try await fleet.worker(["run", "--config", "direct.yaml", "--quiet"] + files)
            try #require(single.status == 0, "\(single.combined)")
            try FileManager.default.moveItem(
                at: fleet.folder.appendingPathComponent("out"), to: fleet.folder.appendingPathComponent("single-out"))
            try FileManager.default.createDirectory(
                at: fleet.folder.appendingPathComponent("out"), withIntermediateDirectories: true)

            let enqueued = try await fleet.worker(["enqueue", "--config", "fleet.yaml", "--batch", "nightly"] + files)
            try #require(enqueued.status == 0, "\(enqueued.combined)")
            #expect(enqueued.stdout.contains("30 job(s) queued"))

            let drains = try (1...3).map { host in
                try fleet.spawn(
                    [
                        "drain", "--config", "fleet.yaml", "--until-empty", "--parallel-jobs", "3", "--report", "json",
                        "--report-file", "drain\(host).json",
                    ], applicationName: "worker-host-\(host)", log: "drain\(host).log")
            }
            var peak = 0
            try await Self.wait(for: drains) { peak = max(peak, try await fleet.serverConnections()) }
            for (index, drain) in drains.enumerated() {
                let log =
                    (try? String(
                        contentsOf: fleet.folder.appendingPathComponent("drain\(index + 1).log"), encoding: .utf8))
                    ?? ""
                #expect(drain.terminationStatus == 0, "drain \(index + 1): \(log.suffix(3000))")
            }
            #expect(peak > 0 && peak <= poolSize, "server connections peaked at \(peak); PgBouncer allows \(poolSize)")

            // Every job done once: 30 jobs across the drains' reports, none twice, each with one attempt.
            var ran: [String] = []
            for host in 1...3 {
                let report =
                    try JSONSerialization.jsonObject(
                        with: Data(contentsOf: fleet.folder.appendingPathComponent("drain\(host).json")))
                    as? [String: Any]
                #expect((report?["leaks"] as? [String: Any])?["ok"] as? Bool == true)
                ran += ((report?["jobs"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
            }
            #expect(ran.count == 30 && Set(ran).count == 30, "jobs run: \(ran.sorted())")
            let status = try await fleet.worker(["status", "--config", "fleet.yaml", "nightly", "--json"])
            try #require(status.status == 0, "\(status.combined)")
            let batch = try #require(
                (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["batches"]
                    as? [[String: Any]]
            ).first
            #expect((batch?["states"] as? [String: Int])?["done"] == 30)
            let jobs = batch?["jobs"] as? [[String: Any]] ?? []
            #expect(jobs.allSatisfy { $0["attempts"] as? Int == 1 && $0["pool_usage"] != nil })
            let drainRecords = batch?["drains"] as? [[String: Any]] ?? []
            #expect(drainRecords.allSatisfy { $0["leaks_ok"] as? Bool == true && $0["exit_status"] as? Int == 0 })

            #expect(try await fleet.differences("single", "fleet") == 0)
            let stored = try await fleet.admin.query("SELECT count(*) FROM fleet.messages").rows[0].decode(
                0, as: Int.self)
            #expect(stored == 400)
            for user in 0..<10 {
                let mine = try Self.hits(fleet.folder.appendingPathComponent("out/u\(user).jsonl"))
                let theirs = try Self.hits(fleet.folder.appendingPathComponent("single-out/u\(user).jsonl"))
                #expect(!mine.isEmpty && mine == theirs, "u\(user)'s hits differ from the single run's")
            }

            // The same batch name again queues nothing.
            let again = try await fleet.worker(["enqueue", "--config", "fleet.yaml", "--batch", "nightly"] + files)
            #expect(again.status == 0 && again.stdout.contains("already queued"), "\(again.combined)")
            let queued = try await fleet.admin.query("SELECT count(*) FROM fleet.queue_jobs").rows[0].decode(
                0, as: Int.self)
            #expect(queued == 30)
        }
    }

    /// Enqueue validates like `run`: one bad file and nothing is queued. A batch name holds one set of jobs.
    @Test func anEnqueueWithAnInvalidFileQueuesNothingAndABatchNameHoldsOneSetOfJobs() async throws {
        try await Fleet.with(poolSize: 2) { fleet in
            let files = try Self.writeBatch(fleet)
            try fleet.config("fleet.yaml", schema: "fleet", throughBouncer: true)
            try fleet.write("broken.yaml", "name: bad\nkind: ingest\nsource: data/missing.jsonl\n")
            let refused = try await fleet.worker(["enqueue", "--config", "fleet.yaml"] + files + ["broken.yaml"])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("broken.yaml:"), "\(refused.stderr)")
            let tables = try await fleet.admin.query(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'fleet' AND tablename LIKE 'queue_%'"
            ).rows[0].decode(0, as: Int.self)
            #expect(tables == 0, "an invalid batch reached the database")

            let empty = try await fleet.worker(["status", "--config", "fleet.yaml"])
            #expect(empty.status == 0 && empty.stdout.contains("no batch in the queue"), "\(empty.combined)")
            let first = try await fleet.worker(["enqueue", "--config", "fleet.yaml", "--batch", "b1", files[0]])
            #expect(first.status == 0, "\(first.combined)")
            let other = try await fleet.worker(["enqueue", "--config", "fleet.yaml", "--batch", "b1", files[1]])
            #expect(other.status == 2)
            #expect(other.stderr.contains("batch b1 (id 1) is already queued with other jobs"), "\(other.stderr)")
            let queued = try await fleet.admin.query("SELECT count(*) FROM fleet.queue_jobs").rows[0].decode(
                0, as: Int.self)
            #expect(queued == 12)
            let unknown = try await fleet.worker(["status", "--config", "fleet.yaml", "b2"])
            #expect(unknown.status == 2 && unknown.stderr.contains("no batch named \"b2\""), "\(unknown.combined)")
        }
    }

    /// A drain killed outright mid-job: its claim's heartbeat stops, another drain takes the job over after the
    /// visibility timeout, and the store ends up exactly as a single run leaves it.
    @Test func aKilledDrainsJobIsTakenOverAndTheStoreIsStillExact() async throws {
        try await Fleet.with(poolSize: 3) { fleet in
            let generated = try await fleet.worker(
                ["generate", "--users", "4", "--messages", "12000", "--seed", "3", "--output", "data/big.jsonl"])
            try #require(generated.status == 0, "\(generated.stderr)")
            try fleet.write(
                "big.yaml",
                """
                jobs:
                  - {name: load, kind: ingest, source: data/big.jsonl, batch_size: 40, concurrency: 2}
                  - {name: ask, kind: query, depends_on: [load], user: user-0001, queries: [quick update thoughts], output: out/ask.jsonl}

                """)
            try fleet.config("direct.yaml", schema: "single", throughBouncer: false)
            try fleet.config("fleet.yaml", schema: "fleet", throughBouncer: true, visibilityTimeout: 2)
            let single = try await fleet.worker(["run", "--config", "direct.yaml", "--quiet", "big.yaml"])
            try #require(single.status == 0, "\(single.combined)")
            let singleHits = try Self.hits(fleet.folder.appendingPathComponent("out/ask.jsonl"))
            let enqueued = try await fleet.worker(["enqueue", "--config", "fleet.yaml", "big.yaml"])
            try #require(enqueued.status == 0, "\(enqueued.combined)")

            let doomed = try fleet.spawn(
                ["drain", "--config", "fleet.yaml", "--until-empty"], applicationName: "worker-host-a", log: "a.log")
            var stored = 0
            for _ in 0..<3000 where stored == 0 && doomed.isRunning {
                stored =
                    (try? await fleet.admin.query("SELECT count(*) FROM fleet.messages").rows[0].decode(0, as: Int.self))
                    ?? 0
                try await Task.sleep(for: .milliseconds(10))
            }
            try #require(stored > 0 && stored < 12000, "the load was not mid-way when the drain was killed (\(stored))")
            kill(doomed.processIdentifier, SIGKILL)
            try await Self.wait(for: [doomed])

            let survivor = try await fleet.worker(
                ["drain", "--config", "fleet.yaml", "--until-empty", "--report", "json"])
            #expect(survivor.status == 0, "\(survivor.combined.suffix(3000))")
            #expect(survivor.stderr.contains("stopped heartbeating"), "\(survivor.stderr.suffix(2000))")
            #expect(try await fleet.differences("single", "fleet") == 0)
            let attempts = try await fleet.admin.query(
                "SELECT outcome FROM fleet.queue_attempts a JOIN fleet.queue_jobs j ON j.id = a.job_id "
                    + "WHERE j.name = 'load' ORDER BY a.id"
            ).rows.map { try $0.decode(0, as: String.self) }
            #expect(attempts == ["lost", "done"])
            let hits = try Self.hits(fleet.folder.appendingPathComponent("out/ask.jsonl"))
            #expect(!hits.isEmpty && hits == singleHits)
        }
    }
    /// A drain without `--until-empty` waits for work: with polling all but off, the notification `enqueue` sends is
    /// what wakes it. SIGTERM then stops it mid-job: the job is handed back (the attempt does not count), the drain
    /// exits 143 with its report, and the next drain stores the rest exactly once.
    @Test func aWaitingDrainWakesOnANotificationAndSIGTERMHandsItsJobBack() async throws {
        try await Fleet.with(poolSize: 2) { fleet in
            let generated = try await fleet.worker(
                ["generate", "--users", "4", "--messages", "12000", "--seed", "4", "--output", "data/big.jsonl"])
            try #require(generated.status == 0, "\(generated.stderr)")
            try fleet.write(
                "big.yaml", "name: load\nkind: ingest\nsource: data/big.jsonl\nbatch_size: 40\nconcurrency: 2\n")
            try fleet.config(
                "direct.yaml", schema: "fleet", throughBouncer: false, pollInterval: 3600, shutdownGrace: 0)
            let waiting = try fleet.spawn(
                ["drain", "--config", "direct.yaml", "--report-file", "waiting.json"],
                applicationName: "worker-waiting",
                log: "waiting.log")
            // The drain is up and listening once it has registered; only then is the notification worth testing.
            var registered = false
            for _ in 0..<3000 where !registered && waiting.isRunning {
                registered =
                    (try? await fleet.admin.query("SELECT count(*) FROM fleet.queue_drains").rows[0].decode(
                        0, as: Int.self)) == 1
                try await Task.sleep(for: .milliseconds(10))
            }
            try #require(registered, "the drain did not start")
            try await Task.sleep(for: .milliseconds(200))
            let enqueued = try await fleet.worker(["enqueue", "--config", "direct.yaml", "big.yaml"])
            try #require(enqueued.status == 0, "\(enqueued.combined)")
            var stored = 0
            for _ in 0..<6000 where stored == 0 && waiting.isRunning {
                stored =
                    (try? await fleet.admin.query("SELECT count(*) FROM fleet.messages").rows[0].decode(0, as: Int.self))
                    ?? 0
                try await Task.sleep(for: .milliseconds(10))
            }
            try #require(stored > 0 && stored < 12000, "the notified drain did not start the job (\(stored) stored)")
            kill(waiting.processIdentifier, SIGTERM)
            try await Self.wait(for: [waiting], timeout: .seconds(60))
            let log =
                (try? String(contentsOf: fleet.folder.appendingPathComponent("waiting.log"), encoding: .utf8)) ?? ""
            #expect(waiting.terminationStatus == 143, "\(log.suffix(2000))")
            let report =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: fleet.folder.appendingPathComponent("waiting.json"))) as? [String: Any]
            #expect((report?["batch"] as? [String: Any])?["status"] as? String == "interrupted")
            let (state, attempts) = try await fleet.admin.query(
                "SELECT state, attempts FROM fleet.queue_jobs WHERE name = 'load'"
            ).rows[0].decode((String, Int).self)
            #expect(state == "queued" && attempts == 0)

            let rest = try await fleet.worker(["drain", "--config", "direct.yaml", "--until-empty", "--quiet"])
            #expect(rest.status == 0, "\(rest.combined.suffix(2000))")
            let total = try await fleet.admin.query("SELECT count(*) FROM fleet.messages").rows[0].decode(
                0, as: Int.self)
            #expect(total == 12000)
            let outcomes = try await fleet.admin.query("SELECT outcome FROM fleet.queue_attempts ORDER BY id").rows.map
            {
                try $0.decode(0, as: String.self)
            }
            #expect(outcomes == ["released", "done"])
        }
    }
}
