import Conversation
import Foundation
import Postgres
import Testing

@testable import MemoryStore

/// Version 3 identifies messages by what their source says (id, or time, role and content) and reads sessions in
/// conversation order. A store written by version 2 keeps working through the upgrade, and the damage version 2's
/// positional identity did is repaired where the stored rows allow it.
@Suite struct IdentityUpgradeTests {
    static func at(_ second: Double) -> Date { Fixtures.start.addingTimeInterval(second) }

    /// A version-2 store holding what version 2 stored for the issue's two scenarios:
    /// - session "fixed": five messages, line 3 bad on the first run (4 stored at positions 0-3), then fixed (the
    ///   last three again at positions 2-4): 7 rows for 5 messages, chunk text repeating two of them;
    /// - session "daily": Monday's file (hi, ok) and Tuesday's (bye, ok) both numbered from 0: Tuesday's "ok" taken
    ///   for Monday's and dropped, and the chunk reading Tuesday before Monday.
    static func versionTwoStore(_ names: StoreNames, on connection: PostgresConnection) async throws {
        try await OlderStore.create(names, through: 2, on: connection)
        let rows: [(session: String, position: Int, role: String, content: String, second: Double)] = [
            ("fixed", 0, "user", "one", 1), ("fixed", 1, "assistant", "two", 2), ("fixed", 2, "user", "four", 4),
            ("fixed", 3, "assistant", "five", 5), ("fixed", 2, "user", "three", 3), ("fixed", 3, "user", "four", 4),
            ("fixed", 4, "assistant", "five", 5),
            ("daily", 0, "user", "hi", 1), ("daily", 1, "assistant", "ok", 2), ("daily", 0, "user", "bye", 86_400),
        ]
        for row in rows {
            try await connection.query(
                """
                INSERT INTO \(names.table("messages")) (user_id, session_id, position, role, content, created_at)
                VALUES ('u', $1::text, $2::int4, $3::text, $4::text, $5::timestamptz)
                """, [row.session, row.position, row.role, row.content, at(row.second)])
        }
        // One chunk per session, in version 2's order (position, content hash), cut with budget 500.
        try await connection.query(
            """
            INSERT INTO \(names.table("chunks")) (user_id, session_id, first_position, first_hash, last_position,
                message_count, max_chars, content, created_at, tsv)
            SELECT user_id, session_id, min(position), (array_agg(content_hash ORDER BY position, content_hash))[1],
                   max(position), count(*), 500, string_agg(content, chr(10) ORDER BY position, content_hash),
                   max(created_at), \(names.table("tsvector_agg"))(tsv ORDER BY position, content_hash)
            FROM \(names.table("messages")) GROUP BY user_id, session_id
            """)
    }

    static func chunkTexts(_ store: MemoryStore, on connection: PostgresConnection) async throws -> [String: String] {
        let chunks = try await TestDatabase.chunks(of: store, on: connection)
        return Dictionary(chunks.map { ($0.session, $0.content) }, uniquingKeysWith: { $0 + " | " + $1 })
    }

    @Test func aVersionTwoStoreIsRepairedAndThenStoresEachMessageOnce() async throws {
        try await TestDatabase.withStore(migrated: false) { store, connection in
            let names = try StoreNames(schema: store.schema, textSearchConfig: store.textSearchConfig)
            try await Self.versionTwoStore(names, on: connection)
            let before = try await connection.query(
                "SELECT content FROM \(names.table("chunks")) WHERE session_id = 'fixed'"
            ).rows.map { try $0.decode(0, as: String.self) }
            #expect(
                before.first?.split(separator: "\n").sorted() == [
                    "five", "five", "four", "four", "one", "three", "two",
                ])

            let report = try await store.migrate(on: connection)
            #expect(report.applied == [3, 4, 5, 6, 7])
            // The copies version 2 made are one message each now; chunks read in the order things were said.
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == 8)
            #expect(
                try await Self.chunkTexts(store, on: connection) == [
                    "fixed": "one\ntwo\nthree\nfour\nfive", "daily": "hi\nok\nbye",
                ])
            #expect(try await TestDatabase.chunkVectorsMismatchingText(of: store, on: connection) == 0)
            #expect(try await store.search(user: "u", query: "three", topK: 5, on: connection).count == 1)

            // Re-sending both files as this program reads them (positions are line indexes) adds only Tuesday's
            // "ok", the message version 2 dropped.
            let fixedFile = [
                (Role.user, "one", 1.0), (.assistant, "two", 2), (.user, "three", 3), (.user, "four", 4),
                (.assistant, "five", 5),
            ].enumerated().map { line, message in
                MemoryMessage(
                    user: "u", session: "fixed", position: line, role: message.0, content: message.1,
                    createdAt: Self.at(message.2))
            }
            let tuesday = [
                MemoryMessage(
                    user: "u", session: "daily", position: 0, role: .user, content: "bye", createdAt: Self.at(86_400)),
                MemoryMessage(
                    user: "u", session: "daily", position: 1, role: .assistant, content: "ok",
                    createdAt: Self.at(86_401)),
            ]
            let result = try await store.ingest(fixedFile + tuesday, maxChunkChars: 500, on: connection)
            #expect(result.inserted == 1 && result.duplicates == 6)
            #expect(
                try await Self.chunkTexts(store, on: connection) == [
                    "fixed": "one\ntwo\nthree\nfour\nfive", "daily": "hi\nok\nbye\nok",
                ])
        }
    }

    /// Messages without a time keep their positional identity through the upgrade; the rebuild keeps each session's
    /// chunk budget.
    @Test func undatedMessagesAndChunkBudgetsSurviveTheUpgrade() async throws {
        try await TestDatabase.withStore(migrated: false) { store, connection in
            let names = try StoreNames(schema: store.schema, textSearchConfig: store.textSearchConfig)
            try await Self.versionTwoStore(names, on: connection)
            try await connection.query(
                """
                INSERT INTO \(names.table("messages")) (user_id, session_id, position, role, content)
                VALUES ('u', 'undated', 0, 'user', 'alpha'), ('u', 'undated', 1, 'user', 'beta')
                """)
            try await connection.query(
                """
                INSERT INTO \(names.table("chunks")) (user_id, session_id, first_position, first_hash, last_position,
                    message_count, max_chars, content, created_at, tsv)
                SELECT 'u', 'undated', position, content_hash, position, 1, 7, content, ingested_at, tsv
                FROM \(names.table("messages")) WHERE session_id = 'undated'
                """)
            try await store.migrate(on: connection)
            let budgets = try await connection.query(
                "SELECT DISTINCT session_id, max_chars FROM \(names.table("chunks")) ORDER BY 1"
            ).rows.map { try $0.decode((String, Int).self) }
            #expect(budgets.map(\.0) == ["daily", "fixed", "undated"] && budgets.map(\.1) == [500, 500, 7])
            #expect(try await Self.chunkTexts(store, on: connection)["undated"] == "alpha | beta")
            let again = [
                MemoryMessage(user: "u", session: "undated", position: 0, role: .user, content: "alpha"),
                MemoryMessage(user: "u", session: "undated", position: 1, role: .user, content: "beta"),
            ]
            let result = try await store.ingest(again, maxChunkChars: 7, on: connection)
            #expect(result.inserted == 0 && result.duplicates == 2)
        }
    }
}
