import Foundation
import Postgres
import Testing

/// SIGTERM or SIGINT mid-batch: no new units start, running ones finish, the pool closes, the report says
/// `interrupted`, the exit status is 128 + the signal (143, 130), and a re-run stores the rest exactly once.
@Suite struct ShutdownTests {
    @Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130))])
    func aSignalStopsCleanlyAndARerunFinishesExactlyOnce(signal: Int32, status: Int32) async throws {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            Issue.record("DATABASE_URL is not set: run the tests with 'make test', which starts the cluster")
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-shutdown-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let schema = "shutdown_\(UInt32.random(in: 0...UInt32.max))"
        // Counts through a connection of the test's own: a psql child waited for on a cooperative thread would stall
        // every other test while it runs.
        let admin = try await PostgresConnection.connect(try ConnectionConfiguration(url))
        defer { admin.close() }
        let generated = try await WorkerProcess.run(
            ["generate", "--users", "20", "--messages", "20000", "--seed", "11", "--output", "data.jsonl"],
            directory: folder
        )
        #expect(generated.status == 0, "\(generated.stderr)")
        try "name: load\nkind: ingest\nsource: data.jsonl\nbatch_size: 50\nconcurrency: 2\n"
            .write(to: folder.appendingPathComponent("job.yaml"), atomically: true, encoding: .utf8)
        try "worker:\n  store_schema: \(schema)\n"
            .write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = try WorkerProcess.executableURL()
        process.arguments = ["job.yaml", "--report-file", "first.json", "--quiet"]
        process.currentDirectoryURL = folder
        try process.run()
        // Signal once the job has stored something, so the shutdown lands mid-job.
        var stored = 0
        for _ in 0..<1000 where stored == 0 && process.isRunning {
            stored = (try? await count(schema: schema, on: admin)) ?? 0
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(stored > 0 && stored < 20000, "the job was still running when signalled")
        kill(process.processIdentifier, signal)
        for _ in 0..<3000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        try #require(!process.isRunning, "the worker did not stop within 30 s of the signal")
        #expect(process.terminationStatus == status)
        let first = try report(folder.appendingPathComponent("first.json"))
        let summary = first["batch"] as? [String: Any]
        #expect(summary?["status"] as? String == "interrupted")
        // The job a signal stopped is counted as interrupted, not as skipped.
        #expect(summary?["jobs_interrupted"] as? Int == 1 && summary?["jobs_skipped"] as? Int == 0)
        #expect((first["leaks"] as? [String: Any])?["ok"] as? Bool == true)

        let rerun = try await WorkerProcess.run(["job.yaml", "--report", "json"], directory: folder)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try await count(schema: schema, on: admin) == 20000)
        try await admin.execute(script: "DROP SCHEMA \(schema) CASCADE")
    }

    /// A signal while the store is being prepared (here: waiting for another worker's migration lock) stops the
    /// wait at once: 128 + the signal, an `interrupted` report, no job started.
    @Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130))])
    func aSignalWhilePreparingTheStoreExitsAsInterrupted(signal: Int32, status: Int32) async throws {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            Issue.record("DATABASE_URL is not set: run the tests with 'make test', which starts the cluster")
            return
        }
        let suffix = UInt32.random(in: 0...UInt32.max)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-prepare-signal-\(suffix)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let schema = "prepare_signal_\(suffix)"
        let applicationName = "mw-prepare-signal-\(suffix)"
        try """
        worker:
          store_schema: \(schema)
          shutdown_grace: 60
        postgres:
          application_name: \(applicationName)
          pool_size: 1

        """.write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        try "name: ask\nkind: query\nuser: u\nqueries: [x]\n"
            .write(to: folder.appendingPathComponent("job.yaml"), atomically: true, encoding: .utf8)
        // Another worker's migration, as far as this one can tell: the lock the migration takes (Migrator.lockName).
        let holder = try await PostgresConnection.connect(try ConnectionConfiguration(url))
        defer { holder.close() }
        try await holder.query(
            "SELECT pg_advisory_lock(hashtextextended($1::text, 0))",
            ["memory-worker.memory-store.migrate:" + schema])

        let process = Process()
        process.executableURL = try WorkerProcess.executableURL()
        process.arguments = ["job.yaml", "--report-file", "report.json", "--quiet"]
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var waiting = false
        for _ in 0..<3000 where !waiting && process.isRunning {
            waiting =
                try await holder.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                    [applicationName]
                ).rows[0].decode(0, as: Int.self) > 0
            if !waiting { try await Task.sleep(for: .milliseconds(10)) }
        }
        try #require(waiting, "the worker never waited for the migration lock")
        kill(process.processIdentifier, signal)
        // Well within shutdown_grace (60 s): the wait is cancelled at once, not at the end of the grace period.
        for _ in 0..<3000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        try #require(!process.isRunning, "the worker did not stop within 30 s of the signal")
        #expect(process.terminationStatus == status)
        let written = try report(folder.appendingPathComponent("report.json"))
        let summary = written["batch"] as? [String: Any]
        #expect(summary?["status"] as? String == "interrupted")
        let failure = summary?["failure"] as? [String: Any]
        #expect(failure?["kind"] as? String == "interrupted")
        #expect((failure?["reason"] as? String)?.contains("signal \(signal)") == true)
        #expect((written["jobs"] as? [[String: Any]])?.first?["status"] as? String == "not_started")
        #expect((written["leaks"] as? [String: Any])?["ok"] as? Bool == true)
        try await holder.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }

    private func report(_ file: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
    }

    private func count(schema: String, on admin: PostgresConnection) async throws -> Int {
        try await admin.query("SELECT count(*) FROM \(schema).messages").rows[0].decode(0, as: Int.self)
    }
}
