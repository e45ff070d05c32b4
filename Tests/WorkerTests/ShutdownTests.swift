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
        #expect((first["batch"] as? [String: Any])?["status"] as? String == "interrupted")
        #expect((first["leaks"] as? [String: Any])?["ok"] as? Bool == true)

        let rerun = try await WorkerProcess.run(["job.yaml", "--report", "json"], directory: folder)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try await count(schema: schema, on: admin) == 20000)
        try await admin.execute(script: "DROP SCHEMA \(schema) CASCADE")
    }

    private func report(_ file: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
    }

    private func count(schema: String, on admin: PostgresConnection) async throws -> Int {
        try await admin.query("SELECT count(*) FROM \(schema).messages").rows[0].decode(0, as: Int.self)
    }
}
