import Foundation
import Postgres
import Testing

/// A store schema a test's worker runs create in the private cluster (`DATABASE_URL`), looked at and dropped from
/// the test.
enum ScratchSchema {
    /// Whether a run got as far as preparing the store.
    static func exists(_ schema: String) async throws -> Bool {
        let connection = try await connect()
        defer { connection.close() }
        return try await connection.query(
            "SELECT count(*)::int FROM pg_namespace WHERE nspname = $1", [schema]
        ).rows[0].decode(0, as: Int.self) == 1
    }

    static func drop(_ schema: String) async throws {
        let connection = try await connect()
        defer { connection.close() }
        try await connection.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }

    private static func connect() async throws -> PostgresConnection {
        let database = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
        return try await PostgresConnection.connect(try ConnectionConfiguration(database))
    }
}
