import Foundation
import Testing

/// The JSON report is an interface: real reports of every shape (a clean batch, failed and skipped jobs with bad
/// records, a database that cannot be reached) validate against `docs/report.schema.json`, checked by Debian's
/// `python3-jsonschema` (installed by `make setup`), and a report that breaks the schema is refused by the same check.
@Suite struct ReportSchemaTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let schema = repository.appendingPathComponent("docs/report.schema.json")

    /// The validator's verdict on `report`: nil when valid, else its message.
    static func violation(of report: Data) async throws -> String? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mw-report-\(UUID().uuidString).json")
        try report.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try await WorkerProcess.launch(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [
                "-c",
                """
                import json, sys, jsonschema
                schema = json.load(open(sys.argv[1]))
                jsonschema.Draft202012Validator.check_schema(schema)
                validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
                errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(json.load(open(sys.argv[2])))]
                print("\\n".join(errors))
                sys.exit(1 if errors else 0)
                """,
                schema.path, file.path,
            ],
            environment: ProcessInfo.processInfo.environment, directory: nil, timeout: .seconds(60))
        return output.status == 0 ? nil : output.combined
    }

    @Test func reportsOfEveryShapeValidate() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        try batch.write("bad.jsonl", "{\"user\": \"x\"}\n")
        try batch.write(
            "jobs.yaml",
            "jobs:\n  - {name: load, kind: ingest, source: messages.jsonl}\n"
                + "  - {name: ask, kind: query, user: nobody, queries: [quinoa], depends_on: load}\n"
                + "  - {name: broken, kind: ingest, source: bad.jsonl}\n"
                + "  - {name: after, kind: query, user: nobody, queries: [x], depends_on: broken}\n")
        let mixed = try await batch.run(["jobs.yaml", "--report", "json"])
        #expect(mixed.status == 1, "\(mixed.stderr)")
        let unreachable = try await batch.run(
            ["jobs.yaml", "--report", "json"],
            environment: ["DATABASE_URL": "postgresql://u@127.0.0.1:1/x", "WORKER_RETRY_ATTEMPTS": "1"])
        #expect(unreachable.status == 75, "\(unreachable.stderr)")
        for (name, output) in [("mixed", mixed), ("unreachable", unreachable)] {
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
            #expect(report["schema_version"] as? Int == 1, "\(name)")
            #expect((report["worker_version"] as? String)?.isEmpty == false, "\(name)")
            #expect(try await Self.violation(of: Data(output.stdout.utf8)) == nil, "\(name)")
        }
    }

    @Test func aReportThatBreaksTheSchemaIsRefused() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        let output = try await batch.run(["jobs.yaml", "--report", "json"])
        #expect(output.status == 0, "\(output.stderr)")
        var report = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        #expect(try await Self.violation(of: Data(output.stdout.utf8)) == nil)
        var summary = try #require(report["batch"] as? [String: Any])
        summary["status"] = "fine"
        report["batch"] = summary
        report["unlisted"] = true
        let broken = try JSONSerialization.data(withJSONObject: report)
        let violation = try #require(try await Self.violation(of: broken))
        #expect(violation.contains("batch/status: 'fine' is not one of"), "\(violation)")
        #expect(violation.contains("'unlisted' was unexpected"), "\(violation)")
    }
}
