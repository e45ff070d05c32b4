import Foundation
import Postgres
import Testing

@testable import MemoryStore

/// BM25 over each user's own statistics: what it ranks, that the statistics stay exact through re-runs, failures and
/// the upgrade, and that one user's words never move another's ranking.
@Suite struct RankingTests {
    private static func message(_ user: String, _ session: String, _ position: Int, _ content: String)
        -> MemoryMessage
    {
        MemoryMessage(
            user: user, session: session, position: position, role: .user, content: content,
            createdAt: Fixtures.start.addingTimeInterval(Double(position)))
    }

    /// A user's messages, one session, in order.
    private static func messages(_ user: String, _ contents: [String]) -> [MemoryMessage] {
        contents.enumerated().map { message(user, "s", $0, $1) }
    }

    /// Rare words outweigh frequent ones (inverse document frequency), which `ts_rank_cd` ignores: it would put the
    /// message saying "kiwi" twice first. Any query word may match: no message holds both.
    @Test func aRareWordOutranksARepeatedCommonOne() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                Self.messages(
                    "u",
                    [
                        "kiwi kiwi on the table", "a kiwi in the bowl", "one kiwi left", "kiwi juice",
                        "the zebra in the bowl", "nothing to see",
                    ]), maxChunkChars: 100, on: connection)
            let hits = try await store.search(user: "u", query: "zebra kiwis", topK: 10, on: connection)
            #expect(hits.first?.content == "the zebra in the bowl")
            #expect(hits.count == 5)
            #expect(hits[1].content == "kiwi kiwi on the table")
        }
    }

    /// The scores are Okapi BM25 to the last digits, with the store's k1 and b, computed here from the messages'
    /// own lexemes as PostgreSQL parses them.
    @Test func scoresAreOkapiBM25WithTheStoresConstants() async throws {
        let contents = [
            "sourdough starter needs flour and water", "the starter bubbled overnight", "flour flour flour everywhere",
            "a long message about kayaks and rivers and a starter of the trip", "unrelated words only",
        ]
        for ranking in [Ranking(), Ranking(k1: 2.0, b: 0.3), Ranking(k1: 0, b: 1)] {
            try await TestDatabase.withStore(ranking: ranking) { store, connection in
                try await store.ingest(Self.messages("u", contents), maxChunkChars: 1, on: connection)
                let rows = try await connection.query(
                    """
                    SELECT m.content, v.lexeme, coalesce(cardinality(v.positions), 1)
                    FROM "\(store.schema)".messages AS m CROSS JOIN unnest(m.tsv) AS v
                    """
                ).rows.map { try $0.decode((String, String, Int).self) }
                var documents: [String: [String: Int]] = [:]
                for (content, lexeme, count) in rows { documents[content, default: [:]][lexeme] = count }
                for content in contents where documents[content] == nil { documents[content] = [:] }
                let average = Double(documents.values.map { $0.values.reduce(0, +) }.reduce(0, +)) / 5
                func expected(_ terms: [String], _ document: [String: Int]) -> Double {
                    let length = Double(document.values.reduce(0, +))
                    return terms.reduce(0) { sum, term in
                        guard let tf = document[term].map(Double.init) else { return sum }
                        let df = Double(documents.values.filter { $0[term] != nil }.count)
                        let idf = log(1 + (5 - df + 0.5) / (df + 0.5))
                        return sum + idf * tf * (ranking.k1 + 1)
                            / (tf + ranking.k1 * (1 - ranking.b + ranking.b * length / average))
                    }
                }
                let hits = try await store.search(user: "u", query: "Starters of flour", topK: 10, on: connection)
                #expect(hits.count == 4)
                for hit in hits {
                    let want = expected(["starter", "flour"], documents[hit.content] ?? [:])
                    #expect(abs(hit.score - want) < 1e-9, "\(hit.content): \(hit.score) vs \(want)")
                }
                #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
            }
        }
    }

    /// Two users who use every word the other uses, in other proportions: each one's results and scores are the same
    /// with or without the other in the store.
    @Test func anotherUsersWordsNeverChangeARanking() async throws {
        let alice = Self.messages("alice", ["apple banana", "apple apple cherry", "banana cherry cherry", "date"])
        let bob = Self.messages(
            "bob", ["apple", "apple", "apple", "apple banana cherry date", "banana", "cherry date apple"])
        let queries = ["apple", "banana cherry", "date apple", "cherry"]
        func results(_ messages: [MemoryMessage], user: String) async throws -> [[String]] {
            try await TestDatabase.withStore { store, connection in
                try await store.ingest(messages, maxChunkChars: 100, on: connection)
                var all: [[String]] = []
                for query in queries {
                    let hits = try await store.search(user: user, query: query, topK: 10, on: connection)
                    #expect(hits.allSatisfy { $0.user == user })
                    all.append(hits.map { "\($0.content) \($0.score)" })
                }
                return all
            }
        }
        let aliceAlone = try await results(alice, user: "alice")
        #expect(aliceAlone.allSatisfy { !$0.isEmpty })
        #expect(try await results(alice + bob, user: "alice") == aliceAlone)
        #expect(try await results(bob + alice, user: "bob") == (try await results(bob, user: "bob")))
    }

    /// Users a and b's hits for a few queries, one line each: rank, session, text and score.
    private static func ranked(_ store: MemoryStore, _ connection: PostgresConnection) async throws -> [String] {
        var lines: [String] = []
        for user in ["a", "b"] {
            for query in ["alpha", "bravo charlie", "golf hotel india", "zulu"] {
                for hit in try await store.search(user: user, query: query, topK: 8, on: connection) {
                    lines.append("\(user) \(query) \(hit.rank) \(hit.session) \(hit.content) \(hit.score)")
                }
            }
        }
        return lines
    }

    /// ``ranked(_:_:)`` of a store this program made and filled with `messages`, `batchSize` at a time.
    private static func rankedInANewStore(_ messages: [MemoryMessage], batchSize: Int) async throws -> [String] {
        try await TestDatabase.withStore { store, connection in
            for batch in Fixtures.batches(messages, size: batchSize) {
                try await store.ingest(batch, maxChunkChars: 200, on: connection)
            }
            return try await ranked(store, connection)
        }
    }

    /// Runs `body` on an empty store left by a program that knew the migrations up to `version`.
    private static func withOlderStore(
        through version: Int, _ body: (MemoryStore, PostgresConnection) async throws -> Void
    ) async throws {
        try await TestDatabase.withStore(migrated: false) { store, connection in
            let names = try StoreNames(schema: store.schema, textSearchConfig: store.textSearchConfig)
            try await OlderStore.create(names, through: version, on: connection)
            try await body(store, connection)
        }
    }

    /// Every row of the statistics, as stored and as computed from the messages by a full scan.
    private static func statistics(_ store: MemoryStore, on connection: PostgresConnection) async throws
        -> (stored: [String], computed: [String])
    {
        let schema = "\"\(store.schema)\""
        let stored = try await connection.query(
            """
            SELECT 'user ' || user_id || ' ' || document_count || ' ' || token_count FROM \(schema).user_statistics
            UNION ALL
            SELECT 'lexeme ' || user_id || ' ' || lexeme || ' ' || document_count FROM \(schema).lexeme_statistics
            ORDER BY 1
            """)
        let computed = try await connection.query(
            """
            SELECT 'user ' || user_id || ' ' || count(*) || ' ' || sum(\(schema).token_count(tsv))
            FROM \(schema).messages GROUP BY user_id
            UNION ALL
            SELECT 'lexeme ' || m.user_id || ' ' || l.lexeme || ' ' || count(*)
            FROM \(schema).messages AS m CROSS JOIN unnest(tsvector_to_array(m.tsv)) AS l(lexeme)
            GROUP BY m.user_id, l.lexeme
            ORDER BY 1
            """)
        return (
            try stored.rows.map { try $0.decode(0, as: String.self) },
            try computed.rows.map { try $0.decode(0, as: String.self) }
        )
    }

    /// Re-runs, overlapping batches (COPY and INSERT paths both), and a batch that fails after its messages and
    /// statistics were written leave the statistics equal to a full recount.
    @Test func statisticsStayExactThroughReRunsAndFailures() async throws {
        try await TestDatabase.withStore { store, connection in
            let messages = Fixtures.conversation(users: ["a", "b"], sessions: 3, perSession: 8)
            for batch in Fixtures.batches(messages, size: 7) {
                try await store.ingest(batch, maxChunkChars: 120, on: connection)
            }
            var statistics = try await Self.statistics(store, on: connection)
            #expect(statistics.stored == statistics.computed)
            #expect(statistics.stored.count > 2)

            // Again, in other batches and another order: nothing new, nothing counted.
            for batch in Fixtures.batches(messages.reversed(), size: 11) {
                #expect(try await store.ingest(batch, maxChunkChars: 120, on: connection).inserted == 0)
            }
            #expect(try await Self.statistics(store, on: connection).stored == statistics.stored)

            // A batch that fails after its messages went in (a chunk the server refuses) is rolled back whole.
            try await connection.execute(
                script: """
                    ALTER TABLE "\(store.schema)".chunks ADD CONSTRAINT no_volcano CHECK (content NOT LIKE '%volcano%')
                    """)
            let late = [
                Self.message("a", "s0", 100, "a volcano erupted"), Self.message("a", "s9", 0, "volcano ash everywhere"),
                Self.message("c", "s0", 0, "volcano tour"),
                // Said before what session s1 holds: stored by INSERT, not COPY.
                MemoryMessage(
                    user: "b", session: "s1", position: 0, role: .user, content: "early volcano",
                    createdAt: Fixtures.start),
            ]
            await #expect(throws: PostgresServerError.self) {
                try await store.ingest(late, maxChunkChars: 120, on: connection)
            }
            #expect(try await Self.statistics(store, on: connection).stored == statistics.stored)

            // The retry, once the cause is gone, counts each message once.
            try await connection.execute(
                script: "ALTER TABLE \"\(store.schema)\".chunks DROP CONSTRAINT no_volcano")
            #expect(try await store.ingest(late, maxChunkChars: 120, on: connection).inserted == 4)
            #expect(try await store.ingest(late, maxChunkChars: 120, on: connection).inserted == 0)
            statistics = try await Self.statistics(store, on: connection)
            #expect(statistics.stored == statistics.computed)
            #expect(statistics.stored.contains("lexeme a volcano 2"))
            #expect(statistics.stored.contains("lexeme b volcano 1"))
            #expect(statistics.stored.contains("lexeme c volcano 1"))
        }
    }

    /// A version-3 store (messages, no statistics) gains its statistics in the upgrade and ranks exactly as a store
    /// filled after it.
    @Test func anUpgradedStoreRanksAsANewOne() async throws {
        let messages = Fixtures.conversation(users: ["a", "b"], sessions: 2, perSession: 10)
        let fresh = try await Self.rankedInANewStore(messages, batchSize: messages.count)
        #expect(fresh.count > 20)
        try await Self.withOlderStore(through: 3) { store, connection in
            // Version 3's ingest is this one without the statistics, which its schema lacks.
            try await store.ingest(messages, maxChunkChars: 200, on: connection)
            await #expect(throws: MemoryStoreError.notMigrated(schema: store.schema)) {
                try await store.search(user: "a", query: "alpha", topK: 8, on: connection)
            }
            #expect(try await store.migrate(on: connection).applied == [4, 5, 6, 7])
            let indexes = try await connection.query(
                // From the catalogues rather than pg_indexes, whose pg_get_indexdef() may open an index that a test
                // beside this one is dropping (XX000: could not open relation).
                """
                SELECT c.relname::text FROM pg_class AS c
                JOIN pg_namespace AS n ON n.oid = c.relnamespace JOIN pg_am AS a ON a.oid = c.relam
                WHERE n.nspname = $1 AND c.relkind = 'i' AND a.amname = 'gin' ORDER BY 1
                """,
                [store.schema]
            ).rows.map { try $0.decode(0, as: String.self) }
            #expect(indexes == ["messages_user_search_keys"])
            let statistics = try await Self.statistics(store, on: connection)
            #expect(statistics.stored == statistics.computed)
            #expect(try await Self.ranked(store, connection) == fresh)
        }
    }

    /// A version-4 store's statistics, counted by version 4's trigger, stay exact when version 5's trigger adds to
    /// them, and the store ranks as one filled by the new trigger alone.
    @Test func statisticsCountedBeforeAndAfterVersion5AddUp() async throws {
        let messages = Fixtures.conversation(users: ["a", "b"], sessions: 4, perSession: 9)
        let (before, after) = (
            Array(messages.prefix(messages.count / 2)), Array(messages.dropFirst(messages.count / 2))
        )
        let fresh = try await Self.rankedInANewStore(messages, batchSize: 13)
        #expect(fresh.count > 10)
        try await Self.withOlderStore(through: 4) { store, connection in
            for batch in Fixtures.batches(before, size: 13) {
                try await store.ingest(batch, maxChunkChars: 200, on: connection)
            }
            #expect(try await store.migrate(on: connection).applied == [5, 6, 7])
            let options = try await connection.query(
                """
                SELECT c.relname || ' ' || array_to_string(c.reloptions, ',') FROM pg_class AS c
                WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace AS n WHERE n.nspname = $1::text) AND c.relname LIKE '%statistics' ORDER BY 1
                """, [store.schema]
            ).rows.map { try $0.decode(0, as: String.self) }
            #expect(options == ["lexeme_statistics fillfactor=50", "user_statistics fillfactor=50"])
            for batch in Fixtures.batches(after, size: 13) {
                try await store.ingest(batch, maxChunkChars: 200, on: connection)
            }
            let statistics = try await Self.statistics(store, on: connection)
            #expect(statistics.stored == statistics.computed)
            #expect(try await Self.ranked(store, connection) == fresh)
        }
    }
}
