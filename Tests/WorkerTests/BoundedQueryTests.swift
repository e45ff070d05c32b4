import Foundation
import Postgres
import Support
import Testing

/// Bounded queries end to end: query text over `worker.query_max_chars` / `worker.query_max_words` is refused (a
/// validation error in a job file, a bad record in a source), and the server ends a search or ingest statement that
/// outlives `worker.query_timeout` / `worker.ingest_timeout`, also when the worker that sent it was killed.
@Suite struct BoundedQueryTests {
    /// A batch folder whose config names a store schema of its own and an application name of its own.
    struct Store {
        let batch: RunCommandTests.Batch
        let schema = "bounded_\(UInt32.random(in: 0...UInt32.max))"
        let applicationName = "mw-bounded-\(UInt32.random(in: 0...UInt32.max))"

        init(worker settings: String = "") throws {
            batch = try RunCommandTests.Batch()
            try batch.write(
                "config.yaml",
                "postgres:\n  application_name: \(applicationName)\nworker:\n  store_schema: \(schema)\n\(settings)")
            try batch.write(
                "message.jsonl", #"{"user": "alice", "session": "s", "role": "user", "content": "sourdough starter"}"#)
            try batch.write("load.yaml", "name: load\nkind: ingest\nsource: message.jsonl\n")
            try batch.write("ask.yaml", "name: ask\nkind: query\nuser: alice\nqueries: [sourdough]\n")
        }

        /// Runs the worker; the JSON report when it printed one.
        func run(_ arguments: [String]) async throws -> (output: WorkerProcess.Output, report: [String: Any]?) {
            let output = try await batch.run(arguments + ["--report", "json"])
            let report = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
            return (output, report)
        }

        func job(_ report: [String: Any]?) -> [String: Any] {
            (report?["jobs"] as? [[String: Any]])?.first ?? [:]
        }

        /// Runs `body` while a connection of the test holds an ACCESS EXCLUSIVE lock on `table` of the store, which
        /// every statement touching it waits for. The store is dropped afterwards.
        func whileLocked(_ table: String, _ body: () async throws -> Void) async throws {
            let admin = try await Self.connect()
            defer { admin.close() }
            try await admin.execute(script: "BEGIN; LOCK TABLE \(schema).\(table) IN ACCESS EXCLUSIVE MODE")
            var failure: (any Error)?
            do { try await body() } catch { failure = error }
            try await admin.execute(script: "ROLLBACK; DROP SCHEMA IF EXISTS \(schema) CASCADE")
            if let failure { throw failure }
        }

        /// A connection of the test's own to the private cluster.
        static func connect() async throws -> PostgresConnection {
            guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
                throw TestDatabaseMissing()
            }
            return try await PostgresConnection.connect(try ConnectionConfiguration(url))
        }

        func remove() { batch.remove() }
    }

    struct TestDatabaseMissing: Error, CustomStringConvertible {
        var description: String { "DATABASE_URL is not set: run the tests with 'make test', which starts the cluster" }
    }

    // MARK: The cap

    @Test func anInlineQueryOverTheCapExitsTwoWithItsLine() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        try batch.write(
            "ask.yaml", "name: ask\nkind: query\nuser: alice\nqueries:\n  - \(String(repeating: "x", count: 1001))\n")
        for arguments in [["ask.yaml"], ["validate", "ask.yaml"]] {
            let output = try await batch.run(arguments)
            #expect(output.status == 2, "\(arguments): \(output.combined)")
            #expect(
                output.stderr.contains(
                    "ask.yaml:5: query 1 of job 'ask' has 1001 characters; a query may have at most 1000 "
                        + "(worker.query_max_chars)"), "\(output.stderr)")
            #expect(output.stdout.isEmpty)
        }
        try batch.write("config.yaml", "worker:\n  query_max_chars: 1001\n")
        let raised = try await batch.run(["validate", "ask.yaml"])
        #expect(raised.status == 0, "\(raised.combined)")
        let words = try await batch.run(["validate", "ask.yaml"], environment: ["WORKER_QUERY_MAX_WORDS": "0"])
        #expect(words.status == 2)
        #expect(words.stderr.contains("worker.query_max_words"), "\(words.stderr)")
    }

    @Test func aSourceQueryOverTheCapIsABadRecordWithItsReason() async throws {
        let store = try Store()
        defer { store.remove() }
        let long = Array(repeating: "sourdough", count: 65).joined(separator: " ")
        try store.batch.write("queries.jsonl", "{\"query\": \"sourdough\"}\n{\"query\": \"\(long)\"}\n")
        try store.batch.write(
            "ask.yaml", "name: ask\nkind: query\nuser: alice\nsource: queries.jsonl\non_bad_record: skip\n")
        let (output, report) = try await store.run(["load.yaml", "ask.yaml"])
        let admin = try await Store.connect()
        defer { admin.close() }
        try await admin.execute(script: "DROP SCHEMA IF EXISTS \(store.schema) CASCADE")
        #expect(output.status == 0, "\(output.combined)")
        let jobs = report?["jobs"] as? [[String: Any]] ?? []
        let ask = try #require(jobs.last)
        #expect(ask["status"] as? String == "ok")
        #expect(ask["items"] as? Int == 1)
        #expect(ask["bad_records"] as? Int == 1)
        let reason = try #require((ask["bad_record_list"] as? [String])?.first)
        #expect(
            reason.contains("queries.jsonl:2: field 'query' has 65 words; a query may have at most 64"), "\(reason)")
        #expect(reason.contains("worker.query_max_words"))
    }

    // MARK: Statement timeouts

    @Test func aSearchPastTheQueryTimeoutFailsTheJobNamingTheSetting() async throws {
        let store = try Store(worker: "  query_timeout: 0.05\n")
        defer { store.remove() }
        let (loaded, _) = try await store.run(["load.yaml"])
        try #require(loaded.status == 0, "\(loaded.combined)")
        try await store.whileLocked("messages") {
            let (output, report) = try await store.run(["ask.yaml"])
            #expect(output.status == 1, "\(output.combined)")
            let job = store.job(report)
            let error = job["error"] as? String ?? ""
            #expect(error.contains("statement timeout") && error.contains("raise worker.query_timeout"), "\(error)")
            #expect(job["retries"] as? Int == 0, "a timeout is not retried")
        }
    }

    @Test func anIngestPastTheIngestTimeoutFailsTheJobNamingTheSetting() async throws {
        let store = try Store(worker: "  ingest_timeout: 0.05\n")
        defer { store.remove() }
        // The store is made without the timeout: on a machine busy with the other tests, creating it and storing the
        // first message may take longer than 50 ms, and only the locked ingest below is under test.
        let loaded = try await store.batch.run(["load.yaml"], environment: ["WORKER_INGEST_TIMEOUT": "0"])
        try #require(loaded.status == 0, "\(loaded.combined)")
        try store.batch.write(
            "message.jsonl", #"{"user": "alice", "session": "t", "role": "user", "content": "rye flour"}"#)
        try await store.whileLocked("messages") {
            let (output, report) = try await store.run(["load.yaml"])
            #expect(output.status == 1, "\(output.combined)")
            let job = store.job(report)
            let error = job["error"] as? String ?? ""
            #expect(error.contains("statement timeout") && error.contains("raise worker.ingest_timeout"), "\(error)")
            #expect(job["retries"] as? Int == 0, "a timeout is not retried")
            #expect(job["inserted"] as? Int == 0)
        }
    }

    @Test func invalidTimeoutsExitTwoNamingTheSetting() async throws {
        let store = try Store(worker: "  query_timeout: -1\n")
        defer { store.remove() }
        let (output, _) = try await store.run(["ask.yaml"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("worker.query_timeout") && output.stderr.contains("'-1'"), "\(output.stderr)")
        let ingest = try await store.batch.run(
            ["ask.yaml"], environment: ["WORKER_QUERY_TIMEOUT": "1", "WORKER_INGEST_TIMEOUT": "soon"])
        #expect(ingest.status == 2)
        #expect(ingest.stderr.contains("worker.ingest_timeout") && ingest.stderr.contains("soon"), "\(ingest.stderr)")
    }

    /// `kill -9` leaves the worker no chance to cancel its statement: the server's timeout ends it. The search waits
    /// for a lock the test holds throughout, so without the timeout it would wait as long as the test lets it.
    @Test func aKilledWorkersSearchEndsByItself() async throws {
        let store = try Store(worker: "  query_timeout: 5\n")
        defer { store.remove() }
        let (loaded, _) = try await store.run(["load.yaml"])
        try #require(loaded.status == 0, "\(loaded.combined)")
        // Not the lock holder: inside its transaction pg_stat_activity would show one snapshot throughout.
        let monitor = try await Store.connect()
        defer { monitor.close() }
        try await store.whileLocked("messages") {
            let process = Process()
            process.executableURL = try WorkerProcess.executableURL()
            process.arguments = ["ask.yaml", "--quiet"]
            process.currentDirectoryURL = store.batch.folder
            let log = store.batch.folder.appendingPathComponent("worker.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let logHandle = try FileHandle(forWritingTo: log)
            defer { try? logHandle.close() }
            process.standardOutput = logHandle
            process.standardError = logHandle
            try process.run()
            var backend: Int?
            for _ in 0..<6000 where backend == nil && process.isRunning {
                backend = try await monitor.query(
                    """
                    SELECT pid FROM pg_stat_activity
                    WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE '%lexeme_statistics%'
                    """,
                    [store.applicationName]
                ).rows.first?.decode(0, as: Int.self)
                if backend == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            let pid = try #require(
                backend,
                "the worker's search never waited for the lock: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")"
            )
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<6000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
            try #require(!process.isRunning)
            #expect(process.terminationReason == .uncaughtSignal, "killed while its search was running")
            // Generous: many times the 5 s timeout, for a loaded machine. Without a timeout the search would still
            // be waiting for the lock when this gives up.
            var running = true
            for _ in 0..<6000 where running {
                running =
                    try await monitor.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [pid]
                    ).rows[0].decode(0, as: Int.self) > 0
                if running { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(!running, "backend \(pid) still runs the killed worker's search while the lock is held")
        }
    }
}
