import Foundation
import Postgres
import Testing

/// `query(_:_:statementTimeout:)`: the server cancels the statement past its timeout, preparation included, and the
/// timeout never outlives the statement, so a pooled connection's next user has the session's own setting.
@Suite struct StatementTimeoutTests {
    @Test(arguments: [true, false])
    func theTimeoutHoldsForTheStatementAlone(prepared: Bool) async throws {
        var configuration = try TestDatabase.configuration()
        configuration.usePreparedStatements = prepared
        let connection = try await PostgresConnection.connect(configuration)
        defer { connection.close() }
        try await connection.execute(script: "SET statement_timeout = '7s'")
        // Twice: the first run prepares both statements in the pipeline, the second uses them.
        for round in 1...2 {
            let during = try await connection.query(
                "SELECT current_setting('statement_timeout'), $1::int", [round], statementTimeout: .milliseconds(90_500)
            ).rows[0].decode((String, Int).self)
            #expect(during == ("90500ms", round))
            #expect(try await setting(on: connection) == "7s")
            #expect(connection.transactionStatus == .idle)
        }
        // Each prepared once, in the first round's pipeline.
        let statements = try await connection.query("SELECT statement FROM pg_prepared_statements").rows.map {
            try $0.decode(0, as: String.self)
        }
        #expect(statements.filter { $0.contains("set_config") }.count == (prepared ? 1 : 0))
        #expect(statements.filter { $0.contains("current_setting") }.count == (prepared ? 1 : 0))
    }

    /// Other settings ride the same pipeline, with or without a timeout, and end with the statement too.
    @Test(arguments: [Duration.zero, .seconds(30)])
    func settingsHoldForTheStatementAlone(timeout: Duration) async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        try await connection.execute(script: "SET jit = on; SET work_mem = '4MB'")
        let during = try await connection.query(
            "SELECT current_setting('jit'), current_setting('work_mem')", statementTimeout: timeout,
            settings: ["jit": "off", "work_mem": "8MB"]
        ).rows[0].decode((String, String).self)
        #expect(during == ("off", "8MB"))
        let after = try await connection.query("SELECT current_setting('jit'), current_setting('work_mem')")
            .rows[0].decode((String, String).self)
        #expect(after == ("on", "4MB"))
        #expect(connection.transactionStatus == .idle)
    }

    @Test func aZeroTimeoutSetsNone() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        try await connection.execute(script: "SET statement_timeout = '7s'")
        let during = try await connection.query("SELECT current_setting('statement_timeout')", statementTimeout: .zero)
        #expect(try during.rows[0].decode(0, as: String.self) == "7s")
    }

    @Test func theServerCancelsAStatementPastItsTimeout() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        await #expect {
            try await connection.query("SELECT pg_sleep(60)", statementTimeout: .milliseconds(50))
        } throws: { ($0 as? PostgresServerError)?.sqlState == PostgresServerError.Code.queryCanceled }
        #expect(connection.isUsable)
        #expect(connection.transactionStatus == .idle)
        #expect(try await setting(on: connection) == "0")
        #expect(try await connection.query("SELECT 41 + 1").rows[0].decode(0, as: Int.self) == 42)
    }

    /// A statement prepared for the first time waits for its table's lock while being parsed: the timeout covers
    /// that too, and the failed preparation is not taken for a prepared statement afterwards.
    @Test func theTimeoutCoversThePreparation() async throws {
        let table = TestDatabase.uniqueName("mw_locked")
        let holder = try await TestDatabase.connect()
        defer { holder.close() }
        try await holder.execute(script: "CREATE TABLE \(table) (n int); INSERT INTO \(table) VALUES (1)")
        defer { Task { try? await holder.execute(script: "ROLLBACK; DROP TABLE IF EXISTS \(table)") } }
        try await holder.execute(script: "BEGIN; LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE")
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let sql = "SELECT count(*) FROM \(table) WHERE n > $1::int"
        await #expect {
            try await connection.query(sql, [0], statementTimeout: .milliseconds(50))
        } throws: { ($0 as? PostgresServerError)?.sqlState == PostgresServerError.Code.queryCanceled }
        try await holder.execute(script: "ROLLBACK")
        let count = try await connection.query(sql, [0], statementTimeout: .seconds(30)).rows[0].decode(0, as: Int.self)
        #expect(count == 1)
        try await holder.execute(script: "DROP TABLE \(table)")
    }

    @Test func aFailingStatementLeavesTheConnectionInStep() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        await #expect {
            try await connection.query("SELECT 1 / $1::int", [0], statementTimeout: .seconds(30))
        } throws: { ($0 as? PostgresServerError)?.sqlState == "22012" }
        #expect(connection.isUsable)
        #expect(connection.transactionStatus == .idle)
        let again = try await connection.query("SELECT 6 / $1::int", [2], statementTimeout: .seconds(30))
        #expect(try again.rows[0].decode(0, as: Int.self) == 3)
        #expect(try await setting(on: connection) == "0")
    }

    @Test(arguments: [
        (Duration.zero, Int64(0)), (.seconds(-1), 0), (.nanoseconds(1), 1), (.microseconds(1500), 2),
        (.seconds(30), 30_000), (.seconds(86_400 * 365), Int64(Int32.max)),
    ])
    func durationsBecomeWholeMillisecondsRoundedUp(duration: Duration, milliseconds: Int64) {
        #expect(duration.settingMilliseconds == milliseconds)
    }

    private func setting(on connection: PostgresConnection) async throws -> String {
        try await connection.query("SHOW statement_timeout").rows[0].decode(0, as: String.self)
    }
}
