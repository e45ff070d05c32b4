import Postgres

/// One connection of the bench's own for setup and checks (DDL, counts, VACUUM), never used inside a timing.
struct AdminConnection: Sendable {
    let connection: PostgresConnection

    static func open(_ configuration: ConnectionConfiguration) async throws -> AdminConnection {
        AdminConnection(connection: try await PostgresConnection.connect(configuration))
    }

    /// Runs SQL text, possibly several statements.
    func execute(_ sql: String) async throws {
        try await connection.execute(script: sql)
    }

    /// The first column of the first row as an integer (a count).
    func integer(_ sql: String) async throws -> Int {
        let result = try await connection.query(sql)
        guard let row = result.rows.first else { throw BenchError("no row from: \(sql)") }
        return try row.decode(0, as: Int.self)
    }

    /// The first column of the first row as text.
    func text(_ sql: String) async throws -> String {
        let result = try await connection.query(sql)
        guard let row = result.rows.first else { throw BenchError("no row from: \(sql)") }
        return try row.decode(0, as: String.self)
    }

    /// Drops the schemas the bench made, whatever they hold.
    func dropSchemas(_ schemas: [String]) async throws {
        for schema in schemas {
            try await execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
        }
    }

    func close() {
        connection.close()
    }
}
