import Foundation
import Testing

/// `worker eval` end to end: a generated labelled set ingested by a job file, its questions asked through the real
/// search on the private PostgreSQL.
@Suite struct EvalCommandTests {
    /// A folder with a labelled set, an ingest job for it and a config naming a schema of the test's own.
    struct Folder {
        let url: URL
        let schema = "eval_\(UInt32.random(in: 0...UInt32.max))"

        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("mw-eval-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try "worker:\n  store_schema: \(schema)\n".write(
                to: url.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
            try "name: ingest\nkind: ingest\nsource: messages.jsonl\n".write(
                to: url.appendingPathComponent("ingest.yaml"), atomically: true, encoding: .utf8)
        }

        func path(_ name: String) -> String { url.appendingPathComponent(name).path }

        func remove() async throws {
            try await ScratchSchema.drop(schema)
            try? FileManager.default.removeItem(at: url)
        }
    }

    @Test func aGeneratedSetIsIngestedAndMeasured() async throws {
        let folder = try Folder()
        let generated = try await WorkerProcess.run(
            [
                "generate", "--users", "4", "--sessions", "8", "--messages", "1600", "--seed", "3", "--questions", "60",
                "--labels", folder.path("labels.jsonl"), "--output", folder.path("messages.jsonl"),
            ])
        #expect(generated.status == 0, "\(generated.stderr)")
        let output = try await WorkerProcess.run(
            ["eval", "--labels", "labels.jsonl", "--top-k", "5", "--report", "json", "ingest.yaml"],
            environment: ["DATABASE_URL": ProcessInfo.processInfo.environment["DATABASE_URL"]],
            directory: folder.url)
        #expect(output.status == 0, "\(output.combined)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any], "\(output.stdout)")
        #expect(report["top_k"] as? Int == 5)
        #expect(report["budget_chars"] as? Int == 2000)
        let overall = try #require(report["overall"] as? [String: Any])
        #expect(overall["questions"] as? Int == 60)
        // The set is hard on purpose (distractors outrank many answers), but the search finds most of them.
        for (metric, least) in [
            ("recall_at_k", 0.3), ("mrr_at_10", 0.1), ("ndcg_at_10", 0.2), ("recall_within_budget", 0.5),
        ] {
            let value = overall[metric] as? Double ?? -1
            #expect(value > least && value <= 1, "\(metric) = \(value)")
        }
        #expect((report["categories"] as? [String: Any])?.count == 6)
        // The store is filled now: with no job file, eval measures it as it is (make bench does so).
        let again = try await WorkerProcess.run(
            ["eval", "--labels", "labels.jsonl", "--top-k", "5", "--report", "json"],
            environment: ["DATABASE_URL": ProcessInfo.processInfo.environment["DATABASE_URL"]],
            directory: folder.url)
        #expect(again.status == 0, "\(again.combined)")
        let measured = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["overall"]
        #expect((measured as? [String: Any])?["recall_at_k"] as? Double == overall["recall_at_k"] as? Double)
        try await folder.remove()
    }

    @Test func aBadLabelsFileExitsTwoBeforeAnythingRuns() async throws {
        let folder = try Folder()
        try "{\"user\": \"u\", \"query\": \"q\", \"relevant\": [\"x\"]}\n{\"user\": \"u\"}\n".write(
            to: folder.url.appendingPathComponent("labels.jsonl"), atomically: true, encoding: .utf8)
        try "".write(to: folder.url.appendingPathComponent("messages.jsonl"), atomically: true, encoding: .utf8)
        let output = try await WorkerProcess.run(
            ["eval", "--labels", "labels.jsonl", "ingest.yaml"],
            environment: ["DATABASE_URL": ProcessInfo.processInfo.environment["DATABASE_URL"]],
            directory: folder.url)
        #expect(output.status == 2)
        #expect(output.stderr.contains("labels.jsonl:2: field 'query' is missing"), "\(output.stderr)")
        #expect(try await !ScratchSchema.exists(folder.schema))
        for options in [["--top-k", "0"], ["--budget-chars", "0"]] {
            let refused = try await WorkerProcess.run(
                ["eval", "--labels", "labels.jsonl"] + options + ["ingest.yaml"], directory: folder.url)
            #expect(refused.status == 2, "\(refused.combined)")
        }
        try await folder.remove()
    }
}
