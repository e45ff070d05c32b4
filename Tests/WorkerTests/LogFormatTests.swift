import Foundation
import Testing

/// `--log-format json` writes one JSON object per line with stable keys; the default text format shows each job's
/// start and finish; `--log-level` filters.
@Suite struct LogFormatTests {
    static func objects(_ stderr: String) throws -> [[String: Any]] {
        try stderr.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(object, "not a JSON object: \(line)")
        }
    }

    @Test func jsonLogsAreOneObjectPerLineWithStableKeys() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        let output = try await batch.run(["jobs.yaml", "--log-format", "json", "--report", "json"])
        #expect(output.status == 0, "\(output.stderr)")
        let logs = try Self.objects(output.stderr)
        for object in logs {
            for key in ["time", "level", "message", "logger"] { #expect(object[key] is String, "\(object)") }
            #expect((object["time"] as? String)?.hasSuffix("Z") == true, "\(object)")
        }
        let jobLines = logs.filter { $0["job"] as? String == "load" }
        #expect(jobLines.map { $0["message"] as? String } == ["job load started", "job load finished"], "\(logs)")
        #expect((jobLines.last?["metadata"] as? [String: String])?["items"] == "1", "\(logs)")
        #expect(jobLines.allSatisfy { $0["level"] as? String == "notice" })
    }

    /// A job failing on a server error carries its SQLSTATE; a pool's warnings carry the pool.
    @Test func errorsCarryTheirSQLStateAndPoolLinesThePool() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        // A schema name the server refuses to create in (pg_ is reserved): a statement error with a SQLSTATE.
        let failed = try await batch.run(
            ["jobs.yaml", "--log-format", "json"], environment: ["WORKER_STORE_SCHEMA": "pg_memory"])
        let logs = try Self.objects(failed.stderr)
        #expect(failed.status != 0, "\(failed.stderr)")
        #expect(logs.contains { ($0["sqlstate"] as? String)?.count == 5 }, "\(failed.stderr)")
        let unreachable = try await batch.run(
            ["jobs.yaml", "--log-format", "json"],
            environment: ["DATABASE_URL": "postgresql://u@127.0.0.1:1/x", "WORKER_RETRY_ATTEMPTS": "2"])
        #expect(unreachable.status == 75, "\(unreachable.stderr)")
        let poolLines = try Self.objects(unreachable.stderr).filter { $0["logger"] as? String == "memory-worker.pool" }
        #expect(!poolLines.isEmpty && poolLines.allSatisfy { ($0["pool"] as? String)?.contains("127.0.0.1") == true })
    }

    @Test func textLogsShowEachJobsStartAndFinishAndTheLevelFilters() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        let text = try await batch.run(["jobs.yaml"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stderr.contains("job load started") && text.stderr.contains("job load finished"), "\(text.stderr)")
        let warnings = try await batch.run(["jobs.yaml", "--log-level", "warning"])
        #expect(warnings.status == 0 && !warnings.stderr.contains("job load"), "\(warnings.stderr)")
        let bad = try await batch.run(["jobs.yaml", "--log-level", "loud"])
        #expect(bad.status == 2 && bad.stderr.contains("loud"), "\(bad.stderr)")
    }
}
