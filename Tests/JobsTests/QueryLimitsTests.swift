import Foundation
import Testing

@testable import Jobs

/// The cap on query text: inline queries over it are validation problems with their line, JSON Lines queries over it
/// are bad records; both name the limit and the setting that raises it.
@Suite struct QueryLimitsTests {
    @Test func queriesAtTheLimitsPassAndOneMoreFails() {
        let limits = QueryLimits()
        #expect(limits.violation(String(repeating: "x", count: 1000)) == nil)
        #expect(limits.violation(Array(repeating: "w", count: 64).joined(separator: " ")) == nil)
        #expect(
            limits.violation(String(repeating: "x", count: 1001))
                == "has 1001 characters; a query may have at most 1000 (worker.query_max_chars): shorten it, or "
                + "raise worker.query_max_chars")
        #expect(
            limits.violation(Array(repeating: "w", count: 65).joined(separator: " "))
                == "has 65 words; a query may have at most 64 (worker.query_max_words): shorten it, or raise "
                + "worker.query_max_words")
    }

    /// Characters are code points, as PostgreSQL's length() counts them, not bytes.
    @Test func charactersAreCodePoints() {
        let limits = QueryLimits(maxCharacters: 3, maxWords: 10)
        #expect(limits.violation("äöü") == nil)
        #expect(limits.violation("日本語") == nil)
        #expect(limits.violation("äöüß")?.hasPrefix("has 4 characters") == true)
    }

    @Test func wordsAreRunsOfNonWhitespace() {
        #expect(QueryLimits.wordCount("") == 0)
        #expect(QueryLimits.wordCount("  \t\n ") == 0)
        #expect(QueryLimits.wordCount("trail OR summit") == 3)
        #expect(QueryLimits.wordCount("  \"quoted phrase\"\t-minus\nnext  ") == 4)
        #expect(QueryLimits.wordCount("ideographic\u{3000}space") == 2)
    }

    @Test func inlineQueriesOverTheLimitsAreProblemsAtTheirLines() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "jobs.yaml",
            """
            name: ask
            kind: query
            user: alice
            queries:
              - fine
              - \(Array(repeating: "w", count: 5).joined(separator: " "))
              - {query: \(String(repeating: "x", count: 21))}

            """)
        #expect(
            problems([file], queryLimits: QueryLimits(maxCharacters: 20, maxWords: 4)) == [
                "\(file):6: query 2 of job 'ask' has 5 words; a query may have at most 4 (worker.query_max_words): "
                    + "shorten it, or raise worker.query_max_words",
                "\(file):7: field 'query' in query 3 of job 'ask' has 21 characters; a query may have at most 20 "
                    + "(worker.query_max_chars): shorten it, or raise worker.query_max_chars",
            ])
        let raised = try JobLoader.load(files: [file], queryLimits: QueryLimits(maxCharacters: 21, maxWords: 5))
        #expect(raised.first?.query?.source.inlineItems?.count == 3)
        #expect(raised.first?.query?.limits == QueryLimits(maxCharacters: 21, maxWords: 5))
    }

    @Test func sourceQueriesOverTheLimitsAreBadRecords() throws {
        let folder = try TempFolder()
        let path = try folder.write(
            "queries.jsonl",
            """
            {"query": "fine"}
            {"query": "\(String(repeating: "x", count: 31))"}
            {"query": "one two three four five"}
            {"query": "\(String(repeating: "x", count: 30))"}
            """)
        let reader = try QueryReader(
            url: URL(fileURLWithPath: path), defaultUser: "alice", limits: QueryLimits(maxCharacters: 30, maxWords: 4))
        #expect(
            Array(reader).map(\.failure?.description) == [
                nil,
                "\(path):2: field 'query' has 31 characters; a query may have at most 30 (worker.query_max_chars): "
                    + "shorten it, or raise worker.query_max_chars",
                "\(path):3: field 'query' has 5 words; a query may have at most 4 (worker.query_max_words): shorten "
                    + "it, or raise worker.query_max_words",
                nil,
            ])
    }
}
