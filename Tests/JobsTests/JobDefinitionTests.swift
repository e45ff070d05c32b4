import Foundation
import Jobs
import Testing

/// A job stored in the queue comes back as the same job on any host: JSON there and back changes nothing, dates
/// included to the last bit (a message's `created_at` is part of its identity).
@Suite struct JobDefinitionTests {
    @Test func aJobSurvivesTheQueuesJSONUnchanged() throws {
        let said = Date(timeIntervalSinceReferenceDate: 786_543_210.123_456_7)
        let ingest = Job(
            name: "load", file: "jobs/a.yaml", line: 3,
            kind: .ingest(
                IngestSpec(
                    source: .inline([
                        Message(
                            user: "ann", session: "s1", position: 4, id: "m-9", role: .assistant, content: "ok 👍",
                            createdAt: said, line: 12)
                    ]), batchSize: 7, maxChunkChars: 300, onBadRecord: .skip)),
            concurrency: 2)
        let query = Job(
            name: "ask", file: "jobs/a.yaml", line: 9,
            kind: .query(
                QuerySpec(
                    user: "ann", source: .file(URL(fileURLWithPath: "/data/q.jsonl")), topK: 9, budgetChars: 500,
                    output: URL(fileURLWithPath: "/out/hits.jsonl"), limits: QueryLimits(maxCharacters: 50, maxWords: 5)
                )),
            dependsOn: ["load"])
        for job in [ingest, query] {
            let json = try JSONEncoder().encode(JobDefinition(job))
            let decoded = try JSONDecoder().decode(JobDefinition.self, from: json)
            #expect(decoded == JobDefinition(job))
            #expect(try JobDefinition(decoded.job()) == JobDefinition(job))
        }
        let back = try JSONDecoder().decode(JobDefinition.self, from: JSONEncoder().encode(JobDefinition(ingest)))
        #expect(back.ingest?.messages?.first?.createdAt == said)
        #expect(JobDefinition(query).sources == ["/data/q.jsonl"])
    }

    @Test func aDefinitionThatIsNeitherKindIsRefusedByName() throws {
        let json = #"{"name": "odd", "file": "a.yaml", "line": 1, "dependsOn": []}"#
        let definition = try JSONDecoder().decode(JobDefinition.self, from: Data(json.utf8))
        #expect(throws: JobDefinition.Invalid.self) { try definition.job() }
        do {
            _ = try definition.job()
        } catch {
            #expect(error.description == "queued job 'odd' cannot be read: it is neither an ingest nor a query job")
        }
    }
}
