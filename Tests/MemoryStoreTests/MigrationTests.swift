import Foundation
import MemoryStore
import Postgres
import Testing

@Suite struct MigrationTests {
    @Test func migratingTwiceAppliesVersionOneOnce() async throws {
        try await TestDatabase.withStore(migrated: false) { store, connection in
            let first = try await store.migrate(on: connection)
            #expect(first.applied == [1])
            #expect(first.currentVersion == 1)
            let second = try await store.migrate(on: connection)
            #expect(second.applied.isEmpty)
            #expect(second.currentVersion == 1)
            #expect(try await TestDatabase.count("schema_version", in: store, on: connection) == 1)
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
            #expect(reports.map(\.applied).sorted { $0.count < $1.count } == [[], [1]])
            #expect(reports.allSatisfy { $0.currentVersion == 1 })
            #expect(try await TestDatabase.count("schema_version", in: store, on: connection) == 1)
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
            let message = MemoryMessage(user: "u", session: "s", position: 0, role: "user", content: "The running dogs")
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
            await #expect(throws: MemoryStoreError.schemaTooNew(schema: store.schema, found: 99, known: 1)) {
                try await store.migrate(on: connection)
            }
        }
    }

    @Test func unmigratedSchemasAreReportedAsSuch() async throws {
        try await TestDatabase.withStore(migrated: false) { store, connection in
            let message = MemoryMessage(user: "u", session: "s", position: 0, role: "user", content: "hello")
            await #expect(throws: MemoryStoreError.notMigrated(schema: store.schema)) {
                try await store.ingest([message], maxChunkChars: 100, on: connection)
            }
            await #expect(throws: MemoryStoreError.notMigrated(schema: store.schema)) {
                try await store.search(user: "u", query: "hello", topK: 5, on: connection)
            }
        }
    }
}
