import MemoryStore
import Postgres
import Testing

/// The search index needs `btree_gin`, which is database-wide: a role that may not install it is told so, once, with
/// what to ask for, and the store is left as it was; once an administrator has installed it, the same role migrates.
@Suite struct ExtensionTests {
    @Test func aRoleThatCannotInstallTheExtensionIsToldWhatToAskFor() async throws {
        try await ScratchCluster.with("extension") { cluster in
            let admin = try await cluster.admin()
            defer { admin.close() }
            // The role owns the schema an administrator made for it, and may not create anything in the database.
            try await admin.execute(script: "CREATE ROLE mw_owner LOGIN; CREATE SCHEMA store AUTHORIZATION mw_owner")
            var configuration = try ConnectionConfiguration(cluster.url)
            configuration["user"] = "mw_owner"
            let connection = try await PostgresConnection.connect(configuration)
            defer { connection.close() }
            let store = MemoryStore(schema: "store")

            let refused = await #expect(throws: MemoryStoreError.self) { try await store.migrate(on: connection) }
            guard case .extensionUnavailable(let name, let reason)? = refused else {
                Issue.record("expected extensionUnavailable, got \(String(describing: refused))")
                return
            }
            #expect(name == "btree_gin")
            #expect(reason.contains("42501"), "\(reason)")
            #expect(refused?.description.contains("CREATE EXTENSION btree_gin;") == true)
            let tables = try await admin.query(
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'store'"
            ).rows[0].decode(0, as: Int.self)
            #expect(tables == 0)

            try await admin.execute(script: "CREATE EXTENSION btree_gin")
            let report = try await store.migrate(on: connection)
            #expect(report.description.hasSuffix("applied version(s) 1, 2, 3, 4, 5, 6, 7; now at version 7"))
            try await store.ingest(
                [MemoryMessage(user: "u", session: "s", position: 0, role: .user, content: "kiwi")],
                maxChunkChars: 100, on: connection)
            #expect(try await store.search(user: "u", query: "kiwi", topK: 5, on: connection).count == 1)
        }
    }

    /// Two stores of one database migrating at once, each under its own schema's lock, install the extension once.
    @Test func storesMigratingAtOnceInstallTheExtensionOnce() async throws {
        try await ScratchCluster.with("extension-race") { cluster in
            let reports = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        let connection = try await cluster.admin()
                        defer { connection.close() }
                        return try await MemoryStore(schema: "store_\(index)").migrate(on: connection).description
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.count == 4 && reports.allSatisfy { $0.hasSuffix("now at version 7") }, "\(reports)")
        }
    }
}
