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
                    Self.message("u", "old", "kiwi tie", at: 10),
                    Self.message("u", "new", "kiwi tie", at: 20),
                    Self.message("u", "best", "kiwi kiwi", at: 0),
                    Self.message("u", "none", "bananas only", at: 30),
                ],
                maxChunkChars: 100, on: connection)
            // Same score and time as each other: the later message id comes first.
            try await store.ingest([Self.message("u", "tie-a", "kiwi tie", at: 15)], maxChunkChars: 100, on: connection)
            try await store.ingest([Self.message("u", "tie-b", "kiwi tie", at: 15)], maxChunkChars: 100, on: connection)

            let hits = try await store.search(user: "u", query: "kiwis", topK: 10, on: connection)
            #expect(hits.map(\.session) == ["best", "new", "tie-b", "tie-a", "old"])
            #expect(hits.map(\.rank) == Array(1...5))
            #expect(hits[0].score > hits[1].score)
            #expect(hits[1].score == hits[4].score)
            #expect(hits[2].messages[0].id > hits[3].messages[0].id)
            #expect(hits[1].createdAt == Fixtures.start.addingTimeInterval(20))
            #expect(hits[0].content == "kiwi kiwi")
            #expect(hits.allSatisfy { $0.user == "u" && $0.messages.count == 1 && $0.messages[0].position == 0 })

            let top = try await store.search(user: "u", query: "kiwi", topK: 2, on: connection)
            #expect(top.map(\.session) == ["best", "new"])
            #expect(try await store.search(user: "u", query: "kiwi", topK: 0, on: connection).isEmpty)
        }
    }

    /// The budget cuts the ranked hits before the first one whose text would pass it, counting code points.
    @Test func theCharacterBudgetCutsAtWholeMessages() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                [
                    Self.message("u", "a", "kiwi kiwi kiwi", at: 0),  // 14
                    Self.message("u", "b", "kiwi kiwi é", at: 1),  // 11 code points
                    Self.message("u", "c", "kiwi and a long tail of other words", at: 2),
                ],
                maxChunkChars: 100, on: connection)
            func sessions(_ budget: Int?) async throws -> [String] {
                try await store.search(user: "u", query: "kiwi", topK: 10, budgetChars: budget, on: connection)
                    .map(\.session)
            }
            #expect(try await sessions(nil) == ["a", "b", "c"])
            #expect(try await sessions(25) == ["a", "b"])
            #expect(try await sessions(24) == ["a"])
            #expect(try await sessions(14) == ["a"])
            #expect(try await sessions(13) == [])
            #expect(try await sessions(1000) == ["a", "b", "c"])
        }
    }

    /// Any query word may match; the words go through the store's configuration (stems, stop words), so operators
    /// and quotes are just text.
    @Test func anyQueryWordMatches() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                [
                    Self.message("u", "a", "red apples and green pears", at: 0),
                    Self.message("u", "b", "green apples", at: 1),
                    Self.message("u", "c", "pears are green", at: 2),
                    Self.message("u", "d", "bananas", at: 3),
                ],
                maxChunkChars: 100, on: connection)
            func sessions(_ query: String) async throws -> [String] {
                try await store.search(user: "u", query: query, topK: 10, on: connection).map(\.session)
            }
            #expect(Set(try await sessions("green apples")) == ["a", "b", "c"])
            #expect(try await sessions("green apples").first == "b")
            #expect(Set(try await sessions("the red pear")) == ["a", "c"])
            #expect(try await sessions("When did I eat the apple?").sorted() == ["a", "b"])
            #expect(try await sessions("what is there?").isEmpty)
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
        "C:\\Users", "discount_code", "50%", "O'Brien's", "note\\path", String(repeating: "(", count: 1000),
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
                    Self.message("u", "quote", "O'Brien's note\\path", at: 5),
                ],
                maxChunkChars: 200, on: connection)
            var found: [String: Set<String>] = [:]
            for query in Self.hostileQueries {
                let hits = try await store.search(user: "u", query: query, topK: 10, on: connection)
                found[query] = Set(hits.map(\.session))
            }
            #expect(found["'; DROP TABLE messages; --"] == ["sql"])
            #expect(found["\\'"] == [])
            #expect(found["O'Brien's"] == ["quote"])
            #expect(found["note\\path"] == ["quote"])
            // Any word may match: "c" is a word of the path too.
            #expect(found["a & b | !c"] == ["ops", "path"])
            #expect(found["(x"] == ["ops"])
            #expect(found["foo:*"] == ["ops"])
            #expect(found["東京"] == ["unicode"])
            #expect(found["héllo wörld"] == ["unicode"])
            #expect(found["C:\\Users"] == ["path", "ops"])
            #expect(found["discount_code"] == ["percent"])
            #expect(found["50%"] == ["percent"])
            // Punctuation and stop words alone are no words: nothing, and no error.
            for query in ["%", "_", "\\", "", "   ", "the and of", "'", "()", "%_%", "!", "<->"] {
                #expect(found[query] == [], "query '\(query)'")
            }
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == 6)
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
            let result = try await connection.query(try store.searchSQL(), ["u", "pgbench", 5, 1.2, 0.75])
            #expect(result.rows.count == 1)
            #expect(try result.rows[0].decode(1, as: String.self) == "s")
            #expect(MemoryStore.searchSQL == (try MemoryStore().searchSQL()))
        }
    }

    /// The index gives a search its own user's messages only: another user's many messages with the same word are
    /// not read, so a search's cost does not grow with the other users of the store. A search scans the index once per
    /// share class, and EXPLAIN gives a scan's rows as its mean per loop: reading the other user's 3,000 would show
    /// about 120 in some scan.
    @Test func theIndexReadsOnlyTheAskingUsersEntries() async throws {
        try await TestDatabase.withStore { store, connection in
            // The asking user has enough other messages that the server goes to the word's index, not the user's.
            var messages = (0..<3).map { Self.message("few", "s\($0)", "kiwi salad \($0)", at: Double($0)) }
            messages += (0..<2_000).map { Self.message("few", "f\($0)", "filler note \($0)", at: Double($0)) }
            messages += (0..<3_000).map { Self.message("many", "s\($0)", "kiwi smoothie \($0)", at: Double($0)) }
            try await store.ingest(messages, maxChunkChars: 100, on: connection)
            try await connection.execute(script: "ANALYZE \(store.schema).messages; SET enable_seqscan = off")
            let plan = try await connection.query(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + (try store.searchSQL()), ["few", "kiwi", 10, 1.2, 0.75]
            ).rows[0].decode(0, as: String.self)
            try await connection.execute(script: "RESET enable_seqscan")
            var scans: [(index: String, rows: Int)] = []
            func collect(_ node: Any) {
                if let node = node as? [String: Any] {
                    if let index = node["Index Name"] as? String, let rows = node["Actual Rows"] as? Int,
                        node["Node Type"] as? String == "Bitmap Index Scan"
                    {
                        scans.append((index, rows))
                    }
                    node.values.forEach(collect)
                } else if let list = node as? [Any] {
                    list.forEach(collect)
                }
            }
            collect(try JSONSerialization.jsonObject(with: Data(plan.utf8)))
            let searchIndex = scans.filter { $0.index == "messages_user_search_keys" }
            #expect(!searchIndex.isEmpty, "\(scans)")
            let mostRowsInAScan = searchIndex.map(\.rows).max() ?? 0
            #expect(mostRowsInAScan <= 3, "\(scans)")
            #expect(try await store.search(user: "few", query: "kiwi", topK: 10, on: connection).count == 3)
        }
    }
}
