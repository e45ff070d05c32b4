import Foundation
import Testing

@testable import Jobs

@Suite struct QueryReaderTests {
    func read(_ text: String, defaultUser: String?) throws -> (path: String, results: [Result<QueryItem, BadRecord>]) {
        let folder = try TempFolder()
        let path = try folder.write("queries.jsonl", text)
        return (path, Array(try QueryReader(url: URL(fileURLWithPath: path), defaultUser: defaultUser)))
    }

    @Test func linesNameTheirUserOrUseTheJobs() throws {
        let (_, results) = try read(
            """
            {"user": "bob", "query": "where do I work?"}

            {"query": "what do I like?", "tags": ["extra fields are ignored"]}
            {"user": null, "query": "null user means the default"}
            """, defaultUser: "alice")
        #expect(
            results.map(\.value) == [
                QueryItem(user: "bob", query: "where do I work?", line: 1),
                QueryItem(user: "alice", query: "what do I like?", line: 3),
                QueryItem(user: "alice", query: "null user means the default", line: 4),
            ])
    }

    @Test func badRecords() throws {
        let (path, results) = try read(
            """
            {"query": "no user and no default"}
            {"user": "", "query": "x"}
            {"user": "bob"}
            {"user": "bob", "query": "   "}
            {"user": "bob", "query": 5}
            ["bob", "x"]
            {"user": "bob", "query": "fine"}
            """, defaultUser: nil)
        #expect(
            results.map(\.failure?.description) == [
                "\(path):1: field 'user' is missing; expected a string naming the user (the job has no 'user' to fall "
                    + "back on)",
                "\(path):2: field 'user' is empty; expected a non-empty string",
                "\(path):3: field 'query' is missing; expected a non-empty string",
                "\(path):4: field 'query' is blank ('   '); expected a non-empty string",
                "\(path):5: field 'query' is the number 5; expected a non-empty string",
                "\(path):6: line is an array, not an object; expected one JSON object per line",
                nil,
            ])
        #expect(results.last?.value == QueryItem(user: "bob", query: "fine", line: 7))
    }

    @Test func crlfAndNoTrailingNewline() throws {
        let (_, results) = try read("{\"query\": \"a\"}\r\n{\"query\": \"b\"}", defaultUser: "u")
        #expect(results.map(\.value?.query) == ["a", "b"])
    }
}
