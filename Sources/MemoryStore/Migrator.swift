import Postgres

/// Brings a schema to ``Migrations/latestVersion`` in one transaction.
///
/// The transaction first takes an advisory lock derived from the schema name, so workers starting together queue up:
/// the first applies the steps, the others then find them recorded and do nothing. Being transaction-level, the lock
/// cannot outlive a failed migration, and every step is rolled back with it.
struct Migrator {
    let names: StoreNames

    /// The advisory lock key's source text; hashed on the server (`hashtextextended`) into the 64-bit key.
    var lockName: String { "memory-worker.memory-store.migrate:" + names.schema.name }

    func migrate(on connection: PostgresConnection) async throws -> MigrationReport {
        guard connection.transactionStatus == .idle else { throw MemoryStoreError.transactionInProgress }
        return try await connection.transaction { connection in
            try await connection.lockUntilTransactionEnds(lockName)
            try await connection.execute(script: Migrations.versionTableScript(names))
            let applied = try await appliedVersions(on: connection)
            let current = applied.max() ?? 0
            if current > Migrations.latestVersion {
                throw MemoryStoreError.schemaTooNew(
                    schema: names.schema.name, found: current, known: Migrations.latestVersion)
            }
            if applied.contains(Migrations.initial.version) {
                try await checkRecordedConfig(on: connection)
            } else {
                try await checkConfigExists(on: connection)
            }
            var report = MigrationReport(schema: names.schema.name, applied: [], currentVersion: current)
            for migration in Migrations.all where !applied.contains(migration.version) {
                for name in migration.extensions { try await install(extension: name, on: connection) }
                try await connection.execute(script: migration.script(names))
                try await migration.rewrite?(names, connection)
                try await connection.query(
                    "INSERT INTO \(names.table("schema_version")) (version, description) VALUES ($1::int4, $2::text)",
                    [migration.version, migration.description]
                )
                report.applied.append(migration.version)
                report.currentVersion = max(report.currentVersion, migration.version)
            }
            return report
        }
    }

    /// Installs `name` unless the database has it. A role that may not is told what to ask for: the failed statement
    /// has ended the transaction, so nothing of the migration stays.
    ///
    /// Stores in other schemas migrate under other locks, and `IF NOT EXISTS` does not keep two transactions from
    /// both creating the extension (the second fails on `pg_extension`'s unique name), so the install takes a lock of
    /// the database's own, held to commit, and looks again under it.
    private func install(extension name: String, on connection: PostgresConnection) async throws {
        func installed() async throws -> Bool {
            try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = $1::text)", [name]
            ).rows.first?.decode(0, as: Bool.self) == true
        }
        guard try await !installed() else { return }
        try await connection.lockUntilTransactionEnds("memory-worker.extension:" + name)
        guard try await !installed() else { return }
        do {
            try await connection.execute(script: "CREATE EXTENSION IF NOT EXISTS \(name)")
        } catch let error as PostgresServerError {
            throw MemoryStoreError.extensionUnavailable(name: name, reason: error.description)
        }
    }

    private func appliedVersions(on connection: PostgresConnection) async throws -> Set<Int> {
        let result = try await connection.query("SELECT version FROM \(names.table("schema_version"))")
        return Set(try result.rows.map { try $0.decode(0, as: Int.self) })
    }

    /// Refuses a configuration other than the one the `tsv` columns were made with.
    private func checkRecordedConfig(on connection: PostgresConnection) async throws {
        let result = try await connection.query(
            "SELECT value FROM \(names.table("store_settings")) WHERE name = $1::text",
            [Migrations.textSearchConfigSetting]
        )
        let recorded = try result.rows.first?.decode(0, as: String.self)
        guard let recorded, recorded == names.textSearchConfig.name else {
            throw MemoryStoreError.textSearchConfigMismatch(
                schema: names.schema.name,
                recorded: recorded ?? "(not recorded)",
                requested: names.textSearchConfig.name
            )
        }
    }

    /// Refuses a configuration the server does not have, before any DDL mentions it.
    private func checkConfigExists(on connection: PostgresConnection) async throws {
        let result = try await connection.query(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_catalog.pg_ts_config c
                WHERE c.cfgname = $1::text AND pg_catalog.pg_ts_config_is_visible(c.oid)
            )
            """,
            [names.textSearchConfig.name]
        )
        guard try result.rows.first?.decode(0, as: Bool.self) == true else {
            throw MemoryStoreError.unknownTextSearchConfig(names.textSearchConfig.name)
        }
    }
}
