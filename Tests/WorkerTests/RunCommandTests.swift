import Foundation
import Testing

/// `worker run` end to end: exit codes, the JSON report on stdout, logs on stderr, nothing run on invalid input.
@Suite struct RunCommandTests {
    /// A folder with a config of its own (unique application name, schema-free defaults) and a small batch.
    struct Batch {
        let folder: URL

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-run-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            // A store of its own: in one store, batches of the same job names are one batch, which its lock lets
            // run once at a time, and the tests run at once.
            let suffix = UInt32.random(in: 0...UInt32.max)
            try write(
                "config.yaml",
                "postgres:\n  application_name: mw-run-\(suffix)\nworker:\n  store_schema: run_test_\(suffix)\n")
            try write(
                "messages.jsonl",
                """
                {"user": "run-test-\(UUID().uuidString)", "session": "s", "role": "user", "content": "quinoa salad"}

                """
            )
        }

        func write(_ name: String, _ text: String) throws {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }

        func run(_ arguments: [String], environment: [String: String?] = [:]) async throws -> WorkerProcess.Output {
            try await WorkerProcess.run(arguments, environment: environment, directory: folder)
        }

        func remove() { try? FileManager.default.removeItem(at: folder) }
    }

    @Test func aGoodBatchExitsZeroWithAJSONReportOnStdout() async throws {
        let batch = try Batch()
        defer { batch.remove() }
        try batch.write(
            "jobs.yaml",
            "jobs:\n  - {name: load, kind: ingest, source: messages.jsonl}\n"
                + "  - {name: ask, kind: query, user: nobody, queries: [quinoa], depends_on: load}\n"
        )
        let output = try await batch.run(["jobs.yaml", "--report", "json", "--report-file", "report.json"])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        #expect(Set(report.keys) == ["schema_version", "worker_version", "batch", "pools", "jobs", "leaks"])
        let summary = try #require(report["batch"] as? [String: Any])
        for key in [
            "id", "started_at", "finished_at", "duration_s", "jobs_total", "jobs_ok", "jobs_failed",
            "jobs_interrupted", "jobs_skipped",
        ] {
            #expect(summary[key] != nil, "batch.\(key)")
        }
        #expect(summary["jobs_ok"] as? Int == 2)
        let leaks = try #require(report["leaks"] as? [String: Any])
        #expect(leaks["ok"] as? Bool == true)
        for key in [
            "outstanding_leases", "active_references", "open_pools", "server_connections_before",
            "server_backends_checked", "server_connections_left", "server_backends_left",
        ] {
            #expect(leaks[key] != nil, "leaks.\(key)")
        }
        let opened = (report["pools"] as? [String: [String: Any]])?.values.first?["connections_num"] as? Int
        #expect(opened ?? 0 > 0 && leaks["server_backends_checked"] as? Int == opened)
        #expect(leaks["server_backends_left"] as? [Int] == [])
        let jobs = try #require(report["jobs"] as? [[String: Any]])
        for key in ["name", "file", "kind", "status", "duration_s", "tasks", "items", "pool_usage"] {
            #expect(jobs.allSatisfy { $0[key] != nil }, "jobs[].\(key)")
        }
        let written = try Data(contentsOf: batch.folder.appendingPathComponent("report.json"))
        #expect(try JSONSerialization.jsonObject(with: written) is [String: Any])
    }

    @Test func aFailedJobExitsOne() async throws {
        let batch = try Batch()
        defer { batch.remove() }
        try batch.write("bad.jsonl", "{\"user\": \"x\"}\n")
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: bad.jsonl\n")
        let output = try await batch.run(["jobs.yaml"])
        #expect(output.status == 1, "\(output.combined)")
        #expect(output.stdout.contains("bad.jsonl:1"))
    }

    @Test func invalidJobFilesExitTwoAndRunNothing() async throws {
        let batch = try Batch()
        defer { batch.remove() }
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\nbatchsize: 10\n")
        let output = try await batch.run(["jobs.yaml", "missing.yaml"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("jobs.yaml:4") && output.stderr.contains("batch_size"))
        #expect(output.stderr.contains("missing.yaml"))
        #expect(output.stdout.isEmpty)
        let validate = try await batch.run(["validate", "jobs.yaml"])
        #expect(validate.status == 2)
        let usage = try await batch.run(["--parallel-jobs", "0", "jobs.yaml"])
        #expect(usage.status == 2, "a bad flag is invalid input too")
        try batch.write("good.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        let store = try await batch.run(["good.yaml"], environment: ["WORKER_TEXT_SEARCH_CONFIG": "english; drop"])
        #expect(store.status == 2 && store.stderr.contains("worker.text_search_config"))
    }

    @Test func versionPrintsTheWorkersVersion() async throws {
        let output = try await WorkerProcess.run(["--version"], environment: [:])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(
            output.stdout.trimmingCharacters(in: .newlines).wholeMatch(
                of: /[0-9]+\.[0-9]+\.[0-9]+( \(git [0-9a-f]{40}(-dirty)?\))?/) != nil)
    }

    /// `worker` or `worker run` with no job file (a cron glob that matched nothing) is a usage error: exit 2 before
    /// any connection. The database here is unreachable, so a batch that ran anyway would exit 75 instead.
    @Test(arguments: [[String](), ["run"], ["validate"], ["--report", "json"]])
    func noJobFilesIsAUsageErrorBeforeAnyConnection(arguments: [String]) async throws {
        let batch = try Batch()
        defer { batch.remove() }
        let output = try await batch.run(
            arguments, environment: ["DATABASE_URL": "postgresql://u@127.0.0.1:1/x", "WORKER_RETRY_ATTEMPTS": "1"])
        #expect(output.status == 2, "\(output.combined)")
        #expect(output.stderr.contains("no job files given"), "\(output.stderr)")
        #expect(output.stdout.isEmpty, "\(output.stdout)")
    }

    /// The config file is found by --config, WORKER_CONFIG or the current directory, not by the job file's folder:
    /// one sitting there unused is named in a warning (cron runs from the home directory, where it is easy to miss).
    @Test func aConfigFileBesideTheJobsThatIsNotInUseIsNamed() async throws {
        let batch = try Batch()
        defer { batch.remove() }
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        let jobs = batch.folder.appendingPathComponent("jobs.yaml").path
        let elsewhere = try await WorkerProcess.run(
            ["validate", jobs], environment: [:], directory: FileManager.default.temporaryDirectory)
        #expect(elsewhere.status == 0, "\(elsewhere.combined)")
        let config = batch.folder.appendingPathComponent("config.yaml").resolvingSymlinksInPath().path
        #expect(elsewhere.stderr.contains("warning: \(config) is not the config file in use"), "\(elsewhere.stderr)")
        let inUse = try await batch.run(["validate", "jobs.yaml"])
        #expect(inUse.status == 0 && !inUse.stderr.contains("warning"), "\(inUse.combined)")
        let named = try await WorkerProcess.run(
            ["validate", jobs, "--config", config], environment: [:], directory: FileManager.default.temporaryDirectory)
        #expect(named.status == 0 && !named.stderr.contains("warning"), "\(named.combined)")
    }

    /// Skipped records leave the exit status at 0, so `--quiet` says so in one line rather than nothing.
    @Test func quietStillSaysInOneLineThatBadRecordsWereSkipped() async throws {
        let batch = try Batch()
        defer { batch.remove() }
        let user = "quiet-\(UUID().uuidString)"
        try batch.write(
            "mixed.jsonl",
            """
            {"user": "\(user)", "session": "s", "role": "user", "content": "kept"}
            {"user": "\(user)"}
            {"user": "\(user)", "session": "s", "role": "nobody", "content": "bad role"}

            """)
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: mixed.jsonl\non_bad_record: skip\n")
        let output = try await batch.run(["jobs.yaml", "--quiet"])
        #expect(output.status == 0, "\(output.combined)")
        #expect(output.stdout.isEmpty, "\(output.stdout)")
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(output.stderr)")
        #expect(
            lines.first?.hasPrefix("worker: 2 bad record(s) skipped in load, first ") == true
                && lines.first?.contains("mixed.jsonl:2: field 'session' is missing") == true,
            "\(output.stderr)")
        let clean = try await batch.run(["jobs.yaml", "--quiet"])
        #expect(clean.status == 0 && clean.stderr.contains("2 bad record(s) skipped"), "\(clean.combined)")
        try batch.write("good.yaml", "name: good\nkind: ingest\nsource: messages.jsonl\n")
        let good = try await batch.run(["good.yaml", "--quiet"])
        #expect(good.status == 0 && good.combined.isEmpty, "\(good.combined)")
    }

    /// The table tells a re-run from a first run: inserted, duplicates and bad records per ingest job, hits per query.
    @Test func theTableCountsInsertedDuplicatesBadRecordsAndHits() async throws {
        let batch = try Batch()
        defer { batch.remove() }
        let user = "table-\(UUID().uuidString)"
        try batch.write(
            "two.jsonl",
            """
            {"user": "\(user)", "session": "s", "role": "user", "content": "quinoa salad"}
            {"user": "\(user)", "session": "s", "role": "user", "content": "lentil soup"}
            {"user": "\(user)"}

            """)
        try batch.write(
            "jobs.yaml",
            "jobs:\n  - {name: load, kind: ingest, source: two.jsonl, on_bad_record: skip}\n"
                + "  - {name: ask, kind: query, user: \(user), queries: [quinoa], depends_on: load}\n")
        func row(_ job: String, in table: String) -> [Substring]? {
            table.split(separator: "\n").first { $0.hasPrefix(job + " ") }?.split(separator: " ")
        }
        let first = try await batch.run(["jobs.yaml"])
        #expect(first.status == 0, "\(first.combined)")
        let header = try #require(row("job", in: first.stdout))
        #expect(Array(header.prefix(8)) == ["job", "kind", "status", "items", "inserted", "dups", "bad", "hits"])
        #expect(
            row("load", in: first.stdout).map { Array($0.prefix(8)) } == [
                "load", "ingest", "ok", "2", "2", "0", "1", "-",
            ])
        let again = try await batch.run(["jobs.yaml"])
        #expect(
            row("load", in: again.stdout).map { Array($0.prefix(8)) } == [
                "load", "ingest", "ok", "2", "0", "2", "1", "-",
            ])
        let hits = try #require(row("ask", in: again.stdout))
        #expect(Array(hits.prefix(8)) == ["ask", "query", "ok", "1", "-", "-", "-", "1"], "\(again.stdout)")
    }

    /// Cron mail gets one warning for the outage, one line per retry and the final error; stdout and the report file
    /// get the report, status `unreachable`.
    @Test func anUnreachableDatabaseExitsSeventyFiveWithAReportAndOneLinePerRetry() async throws {
        let batch = try Batch()
        defer { batch.remove() }
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        let output = try await batch.run(
            ["jobs.yaml", "--report", "json", "--report-file", "report.json"],
            environment: [
                "DATABASE_URL": "postgresql://u:Zx9-Secret!@127.0.0.1:1/x", "POSTGRES_POOL_SIZE": "1",
                "WORKER_RETRY_ATTEMPTS": "4", "WORKER_RETRY_INITIAL_DELAY": "0.01",
            ]
        )
        #expect(output.status == 75, "\(output.combined)")
        #expect(output.stderr.contains("Connection refused"))
        #expect(!output.combined.contains("Zx9-Secret!"))
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.filter { $0.contains("memory-worker.pool") }.count == 1, "\(output.stderr)")
        for attempt in 2...4 {
            #expect(lines.filter { $0.contains("(attempt \(attempt) of 4)") }.count == 1, "\(output.stderr)")
        }
        #expect(lines.last?.hasPrefix("worker: cannot prepare the memory store") == true, "\(output.stderr)")
        #expect(lines.count == 5, "\(output.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        let summary = try #require(report["batch"] as? [String: Any])
        #expect(summary["status"] as? String == "unreachable")
        #expect((summary["failure"] as? [String: Any])?["kind"] as? String == "transient")
        #expect((report["jobs"] as? [[String: Any]])?.first?["status"] as? String == "not_started")
        let written = try Data(contentsOf: batch.folder.appendingPathComponent("report.json"))
        #expect(try JSONSerialization.jsonObject(with: written) is [String: Any])
    }
}
