import Postgres

@testable import MemoryStore

/// The empty schema an older program left: the migrations up to a version applied and recorded, as that program ran
/// them (an empty store gives their rewrites nothing to do).
enum OlderStore {
    static func create(_ names: StoreNames, through version: Int, on connection: PostgresConnection) async throws {
        try await connection.execute(script: Migrations.versionTableScript(names))
        for migration in Migrations.all where migration.version <= version {
            try await connection.execute(script: migration.script(names))
            try await connection.query(
                "INSERT INTO \(names.table("schema_version")) (version, description) VALUES ($1::int4, 'v')",
                [migration.version])
        }
    }
}
