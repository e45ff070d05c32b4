import Testing

@testable import Postgres

@Suite struct ServerErrorTests {
    @Test func undefinedTableCarriesItsSQLState() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        await #expect {
            try await connection.query("SELECT * FROM no_such_table_mw")
        } throws: { error in
            guard let error = error as? PostgresServerError else { return false }
            return error.sqlState == PostgresServerError.Code.undefinedTable && error.severity == "ERROR"
                && error.message == "relation \"no_such_table_mw\" does not exist" && error.position == 15
        }
        #expect(try await connection.query("SELECT 1").rows.count == 1)
    }

    @Test func uniqueViolationCarriesDetailAndConstraint() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let table = TestDatabase.uniqueName("mw_unique")
        try await connection.execute(script: "CREATE TEMP TABLE \(table) (id int CONSTRAINT \(table)_pk PRIMARY KEY)")
        try await connection.query("INSERT INTO \(table) VALUES ($1)", [7])
        await #expect {
            try await connection.query("INSERT INTO \(table) VALUES ($1)", [7])
        } throws: { error in
            guard let error = error as? PostgresServerError else { return false }
            return error.sqlState == PostgresServerError.Code.uniqueViolation
                && error.detail == "Key (id)=(7) already exists." && error.constraint == "\(table)_pk"
                && error.table == table
        }
    }

    @Test func hintIsKept() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        await #expect {
            try await connection.query("SELECT no_such_function_mw($1::int)", [1])
        } throws: { error in
            guard let error = error as? PostgresServerError else { return false }
            return error.sqlState == "42883" && error.hint?.contains("explicit type casts") == true
        }
    }
}
