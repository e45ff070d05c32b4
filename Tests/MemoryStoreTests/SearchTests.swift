import Foundation
import MemoryStore
import Postgres
import Testing

@Suite struct SearchTests {
    /// One message per session, so each is its own chunk; times decide ties.
    private static func message(
        _ user: String, _ session: String, _ content: String, at seconds: Double
    ) -> MemoryMessage {
        MemoryMessage(
            user: user, session: session, position: 0, role: .user, content: content,
            createdAt: Fixtures.start.addingTimeInterval(seconds))
    }

    @Test func hitsAreRankedByScoreThenRecencyThenID() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                [
                    Self.message("u", "once-old", "the kiwi was ripe", at: 10),
                    Self.message("u", "thrice", "kiwi kiwi kiwi everywhere", at: 0),
                    Self.message("u", "once-new", "a kiwi on the table", at: 20),
                    Self.message("u", "twice", "kiwi and more kiwi", at: 5),
                    Self.message("u", "none", "bananas only", at: 30),
                ],
                maxChunkChars: 100, on: connection)
            // Same score and time as each other: the later chunk id comes first.
            try await store.ingest([Self.message("u", "tie-a", "kiwi tie", at: 15)], maxChunkChars: 100, on: connection)
            try await store.ingest([Self.message("u", "tie-b", "kiwi tie", at: 15)], maxChunkChars: 100, on: connection)

            let hits = try await store.search(user: "u", query: "kiwis", topK: 10, on: connection)
            #expect(hits.map(\.session) == ["thrice", "twice", "once-new", "tie-b", "tie-a", "once-old"])
            #expect(hits.map(\.rank) == Array(1...6))
            #expect(hits[0].score > hits[1].score)
            #expect(hits[1].score > hits[2].score)
            #expect(hits[2].score == hits[5].score)
            #expect(hits[3].chunkID > hits[4].chunkID)
            #expect(hits[2].createdAt == Fixtures.start.addingTimeInterval(20))
            #expect(hits[0].content == "kiwi kiwi kiwi everywhere")

            let top = try await store.search(user: "u", query: "kiwi", topK: 2, on: connection)
            #expect(top.map(\.session) == ["thrice", "twice"])
            #expect(try await store.search(user: "u", query: "kiwi", topK: 0, on: connection).isEmpty)
        }
    }

    @Test func webSearchSyntaxWorks() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                [
                    Self.message("u", "a", "red apples and green pears", at: 0),
                    Self.message("u", "b", "green apples", at: 1),
                    Self.message("u", "c", "pears are green", at: 2),
                ],
                maxChunkChars: 100, on: connection)
            func sessions(_ query: String) async throws -> Set<String> {
                Set(try await store.search(user: "u", query: query, topK: 10, on: connection).map(\.session))
            }
            #expect(try await sessions("green apples") == ["a", "b"])
            #expect(try await sessions("apples -red") == ["b"])
            #expect(try await sessions("\"green apples\"") == ["b"])
            #expect(try await sessions("red or pears") == ["a", "c"])
        }
    }

    @Test func aUserNeverSeesAnotherUsersChunks() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                [
                    Self.message("alice", "s", "shared topic: gardening tomatoes", at: 0),
                    Self.message("bob", "s", "shared topic: gardening secrets zanzibar", at: 1),
                    Self.message("bob", "t", "zanzibar again", at: 2),
                ],
                maxChunkChars: 100, on: connection)
            #expect(try await store.search(user: "alice", query: "zanzibar", topK: 10, on: connection).isEmpty)
            let shared = try await store.search(user: "alice", query: "gardening", topK: 10, on: connection)
            #expect(shared.map(\.content) == ["shared topic: gardening tomatoes"])
            #expect(try await store.search(user: "bob", query: "zanzibar", topK: 10, on: connection).count == 2)
            #expect(try await store.search(user: "carol", query: "gardening", topK: 10, on: connection).isEmpty)
            #expect(try await store.search(user: "ALICE", query: "gardening", topK: 10, on: connection).isEmpty)
        }
    }

    @Test func thirtyTwoUsersSearchingConcurrentlySeeOnlyTheirOwnChunks() async throws {
        let users = (0..<32).map { "user\($0)" }
        try await TestDatabase.withStore { store, connection in
            // Every user's chunks hold the common word and a word of their own.
            var messages: [MemoryMessage] = []
            for (index, user) in users.enumerated() {
                for position in 0..<5 {
                    messages.append(
                        MemoryMessage(
                            user: user, session: "s", position: position, role: .user,
                            content: "common words marker\(index) entry\(position)"))
                }
            }
            try await store.ingest(messages, maxChunkChars: 40, on: connection)
            let leaks = try await withThrowingTaskGroup(of: [String].self) { group in
                for (index, user) in users.enumerated() {
                    group.addTask {
                        let own = try await TestDatabase.connect()
                        defer { own.close() }
                        var leaks: [String] = []
                        for _ in 0..<10 {
                            let hits = try await store.search(user: user, query: "common", topK: 100, on: own)
                            if hits.count != 5 { leaks.append("\(user): \(hits.count) hits") }
                            for hit in hits where !hit.content.contains("marker\(index) ") {
                                leaks.append("\(user) saw '\(hit.content)'")
                            }
                            let other = "marker\((index + 1) % users.count)"
                            let foreign = try await store.search(user: user, query: other, topK: 100, on: own)
                            if !foreign.isEmpty { leaks.append("\(user) found \(other)") }
                        }
                        return leaks
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(leaks.isEmpty)
        }
    }

    static let hostileQueries = [
        "'; DROP TABLE messages; --", "%", "_", "\\", "a & b | !c", "(x", "foo:*", "x <-> y", "\"unterminated",
        "'", "\"\"", "--", "-", "or", "!", "&", "|", "<->", ":*", "()", "))((", "\\'", "$1", "%_%",
        "東京", "héllo wörld", "🧠", "", "   ", "\n\t", "the and of", "a\u{0}b",
        "C:\\Users", "discount_code", "50%", String(repeating: "(", count: 1000),
        String(repeating: "word ", count: 2000),
    ]

    @Test func hostileQueriesAreSearchedAsText() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                [
                    Self.message("u", "sql", "never run '; DROP TABLE messages; -- on prod", at: 0),
                    Self.message("u", "percent", "a 50% discount_code here", at: 1),
                    Self.message("u", "ops", "a & b | !c (x foo:* bar", at: 2),
                    Self.message("u", "unicode", "meet in 東京, héllo wörld 🧠", at: 3),
                    Self.message("u", "path", "C:\\Users\\me backslash", at: 4),
                ],
                maxChunkChars: 200, on: connection)
            var found: [String: Set<String>] = [:]
            for query in Self.hostileQueries {
                let hits = try await store.search(user: "u", query: query, topK: 10, on: connection)
                found[query] = Set(hits.map(\.session))
            }
            #expect(found["'; DROP TABLE messages; --"] == ["sql"])
            #expect(found["a & b | !c"] == ["ops"])
            #expect(found["(x"] == ["ops"])
            #expect(found["foo:*"] == ["ops"])
            #expect(found["東京"] == ["unicode"])
            #expect(found["héllo wörld"] == ["unicode"])
            #expect(found["C:\\Users"] == ["path"])
            #expect(found["discount_code"] == ["percent"])
            #expect(found["50%"] == ["percent"])
            // Punctuation and stop words alone are no words: nothing, and no error.
            for query in ["%", "_", "\\", "", "   ", "the and of", "'", "()", "%_%", "!", "<->"] {
                #expect(found[query] == [], "query '\(query)'")
            }
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == 5)
            #expect(try await TestDatabase.count("chunks", in: store, on: connection) == 5)
            #expect(connection.transactionStatus == .idle)
        }
    }

    @Test func hostileUserNamesMatchOnlyThemselves() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                [Self.message("a'b\"c%_\\", "s", "private note", at: 0)], maxChunkChars: 100, on: connection)
            #expect(try await store.search(user: "a'b\"c%_\\", query: "note", topK: 5, on: connection).count == 1)
            for user in ["%", "_", "a%", "' OR '1'='1", "a'b\"c%_", "a\u{0}"] {
                #expect(try await store.search(user: user, query: "note", topK: 5, on: connection).isEmpty)
            }
        }
    }

    @Test func theExposedStatementIsTheOneSearchRuns() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                [Self.message("u", "s", "pgbench reads this", at: 0)], maxChunkChars: 100, on: connection)
            let result = try await connection.query(try store.searchSQL(), ["u", "pgbench", 5])
            #expect(result.rows.count == 1)
            #expect(try result.rows[0].decode(1, as: String.self) == "s")
            #expect(MemoryStore.searchSQL == (try MemoryStore().searchSQL()))
        }
    }
}
