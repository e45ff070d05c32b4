import Foundation
import Postgres
import Testing

@testable import MemoryStore

@Suite struct MigrationTests {
    @Test func migratingTwiceAppliesEachVersionOnce() async throws {
        try await TestDatabase.withStore(migrated: false) { store, connection in
            let first = try await store.migrate(on: connection)
            #expect(first.applied == [1, 2, 3, 4, 5, 6, 7])
            #expect(first.currentVersion == 7)
            let second = try await store.migrate(on: connection)
            #expect(second.applied.isEmpty)
            #expect(second.currentVersion == 7)
            #expect(try await TestDatabase.count("schema_version", in: store, on: connection) == 7)
            #expect(connection.transactionStatus == .idle)
        }
    }

    @Test func concurrentMigrationsBothSucceedAndOneApplies() async throws {
        try await TestDatabase.withStore(migrated: false) { store, connection in
            let reports = try await withThrowingTaskGroup(of: MigrationReport.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let own = try await TestDatabase.connect()
                        defer { own.close() }
                        return try await store.migrate(on: own)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.count == 2)
            #expect(reports.map(\.applied).sorted { $0.count < $1.count } == [[], [1, 2, 3, 4, 5, 6, 7]])
            #expect(reports.allSatisfy { $0.currentVersion == 7 })
            #expect(try await TestDatabase.count("schema_version", in: store, on: connection) == 7)
        }
    }

    @Test func anotherTextSearchConfigOnAnExistingSchemaIsRefusedWithAFix() async throws {
        try await TestDatabase.withStore { (store: MemoryStore, connection: PostgresConnection) async throws in
            let other = MemoryStore(schema: store.schema, textSearchConfig: "simple")
            let error = await #expect(throws: MemoryStoreError.self) { try await other.migrate(on: connection) }
            #expect(
                error
                    == .textSearchConfigMismatch(schema: store.schema, recorded: "english", requested: "simple"))
            let message = error.map { "\($0)" } ?? ""
            #expect(message.contains("created with text search configuration 'english'"))
            #expect(message.contains("new schema name"))
            #expect(connection.transactionStatus == .idle)
            // The schema is untouched and the original configuration still migrates.
            #expect(try await store.migrate(on: connection).applied.isEmpty)
        }
    }

    @Test func aTextSearchConfigTheServerLacksIsRefused() async throws {
        try await TestDatabase.withStore(migrated: false, textSearchConfig: "klingon") { store, connection in
            await #expect(throws: MemoryStoreError.unknownTextSearchConfig("klingon")) {
                try await store.migrate(on: connection)
            }
            let tables = try await connection.query(
                "SELECT count(*) FROM pg_tables WHERE schemaname = $1::text", [store.schema])
            #expect(try tables.rows[0].decode(0, as: Int.self) == 0)
        }
    }

    @Test func theSimpleConfigurationIsUsedForTheGeneratedColumn() async throws {
        try await TestDatabase.withStore(textSearchConfig: "simple") { store, connection in
            let message = MemoryMessage(user: "u", session: "s", position: 0, role: .user, content: "The running dogs")
            try await store.ingest([message], maxChunkChars: 100, on: connection)
            // `simple` neither stems nor drops stop words: "the" is searchable and "run" is not "running".
            #expect(try await store.search(user: "u", query: "the", topK: 5, on: connection).count == 1)
            #expect(try await store.search(user: "u", query: "run", topK: 5, on: connection).isEmpty)
        }
    }

    @Test func aNewerSchemaIsRefused() async throws {
        try await TestDatabase.withStore { store, connection in
            try await connection.query(
                "INSERT INTO \"\(store.schema)\".schema_version (version, description) VALUES (99, 'from the future')")
            await #expect(throws: MemoryStoreError.schemaTooNew(schema: store.schema, found: 99, known: 7)) {
                try await store.migrate(on: connection)
            }
        }
    }

    /// A store written by version 1 (search vectors generated from chunk text) keeps its data and its search through
    /// the upgrade, and ingests after it: new and rebuilt chunks get vectors concatenated from their messages'.
    @Test func aVersionOneStoreUpgradesWithItsDataAndSearch() async throws {
        try await TestDatabase.withStore(migrated: false) { store, connection in
            let names = try StoreNames(schema: store.schema, textSearchConfig: store.textSearchConfig)
            try await connection.execute(script: Migrations.versionTableScript(names))
            try await connection.execute(script: Migrations.initial.script(names))
            try await connection.query(
                "INSERT INTO \(names.table("schema_version")) (version, description) VALUES (1, 'v1')")
            // What version 1's ingest wrote for two messages: the messages and their chunk, its vector generated.
            try await connection.execute(
                script: """
                    INSERT INTO \(names.table("messages")) (user_id, session_id, position, role, content)
                        VALUES ('u', 's', 0, 'user', 'the sourdough starter'), ('u', 's', 1, 'user', 'needs flour');
                    INSERT INTO \(names.table("chunks")) (user_id, session_id, first_position, first_hash,
                        last_position, message_count, max_chars, content, created_at)
                        SELECT 'u', 's', 0, content_hash, 1, 2, 60, 'the sourdough starter' || chr(10) || 'needs flour',
                            now()
                        FROM \(names.table("messages")) WHERE position = 0;
                    """)
            let v1 = MemoryMessage(user: "u", session: "s", position: 2, role: .user, content: "rye")
            await #expect(throws: MemoryStoreError.notMigrated(schema: store.schema)) {
                try await store.ingest([v1], maxChunkChars: 60, on: connection)
            }

            let report = try await store.migrate(on: connection)
            #expect(report.applied == [2, 3, 4, 5, 6, 7])
            #expect(try await store.search(user: "u", query: "starter flour", topK: 5, on: connection).count == 2)
            let stored = try await connection.query(
                "SELECT count(*) FROM \(names.table("messages")) WHERE tsv @@ to_tsquery('english', 'sourdough')")
            #expect(try stored.rows[0].decode(0, as: Int.self) == 1)

            // Appending rebuilds the session's chunk from the stored vectors; a new session gets its own chunk.
            let more = [
                MemoryMessage(user: "u", session: "s", position: 2, role: .assistant, content: "and a warm kitchen"),
                MemoryMessage(user: "u", session: "t", position: 0, role: .user, content: "kayak trip"),
            ]
            let result = try await store.ingest(more, maxChunkChars: 60, on: connection)
            #expect(result.inserted == 2)
            let hits = try await store.search(user: "u", query: "sourdough kitchen", topK: 5, on: connection)
            #expect(Set(hits.map(\.content)) == ["the sourdough starter", "and a warm kitchen"])
            #expect(
                try await TestDatabase.chunks(of: store, on: connection).map(\.content) == [
                    "the sourdough starter\nneeds flour\nand a warm kitchen", "kayak trip",
                ])
            #expect(try await store.search(user: "u", query: "kayak", topK: 5, on: connection).count == 1)
            #expect(try await TestDatabase.chunkVectorsMismatchingText(of: store, on: connection) == 0)
        }
    }

    @Test func unmigratedSchemasAreReportedAsSuch() async throws {
        try await TestDatabase.withStore(migrated: false) { store, connection in
            let message = MemoryMessage(user: "u", session: "s", position: 0, role: .user, content: "hello")
            await #expect(throws: MemoryStoreError.notMigrated(schema: store.schema)) {
                try await store.ingest([message], maxChunkChars: 100, on: connection)
            }
            await #expect(throws: MemoryStoreError.notMigrated(schema: store.schema)) {
                try await store.search(user: "u", query: "hello", topK: 5, on: connection)
            }
        }
    }
}
