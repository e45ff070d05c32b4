import Foundation
import Glibc
import Testing

@testable import Postgres

@Suite struct ConnectionTests {
    @Test func connectsAndExposesWhatAPoolNeeds() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let pid = try await connection.query("SELECT pg_backend_pid()").rows[0].decode(0, as: Int32.self)
        #expect(connection.backendPID == pid)
        #expect(connection.serverVersion >= 120_000)
        #expect(connection.transactionStatus == .idle)
        #expect(connection.isUsable)
        #expect(connection.openedAt <= Date())
        #expect(connection.target.hasPrefix("postgresql://postgres@"))
        try await connection.execute(script: "BEGIN")
        #expect(connection.transactionStatus == .inTransaction)
        await #expect(throws: PostgresServerError.self) { try await connection.query("SELECT 1/0") }
        #expect(connection.transactionStatus == .failed)
        try await connection.execute(script: "ROLLBACK")
        #expect(connection.transactionStatus == .idle)
    }

    @Test func applicationNameDefaultsToMemoryWorker() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let name = try await connection.query("SELECT current_setting('application_name')").rows[0]
            .decode(0, as: String.self)
        #expect(name == "memory-worker")
        let named = try await TestDatabase.connect(applicationName: "mw-custom")
        defer { named.close() }
        let seen = try await connection.query(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND application_name = 'mw-custom'",
            [Int(named.backendPID)]
        ).rows[0].decode(0, as: Int.self)
        #expect(seen == 1)
    }

    @Test func refusedPortFailsClearly() async throws {
        let error = await connectionError(ConnectionConfiguration(parameters: [("host", "127.0.0.1"), ("port", "1")]))
        #expect(error?.kind == .connectFailed)
        #expect(error?.message.contains("Connection refused") == true)
        #expect(error?.target == "postgresql://\(NSUserName())@127.0.0.1:1/\(NSUserName())")
    }

    @Test func wrongPasswordFailsWithoutShowingIt() async throws {
        let admin = try await TestDatabase.connect()
        defer { admin.close() }
        let role = TestDatabase.uniqueName("mw_role")
        try await admin.execute(script: "CREATE ROLE \(role) LOGIN PASSWORD 'right-Pa55'")
        let port = try await TestDatabase.tcpPort(admin)
        let secret = "Wr0ng-pa55:w@rd/%"
        let error = await connectionError(
            ConnectionConfiguration(parameters: [
                ("host", "127.0.0.1"), ("port", port), ("user", role), ("password", secret),
                ("dbname", "memory_worker"),
            ])
        )
        #expect(error?.kind == .connectFailed)
        #expect(error?.message.contains("password authentication failed") == true)
        #expect(error.map { !"\($0)".contains(secret) } == true)
        #expect(error?.target == "postgresql://\(role):***@127.0.0.1:\(port)/memory_worker")

        let url =
            "postgresql://\(role):\(secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
            + "@127.0.0.1:\(port)/memory_worker"
        let fromURL = await connectionError(try ConnectionConfiguration(url))
        #expect(fromURL.map { !"\($0)".contains(secret) && !"\($0)".contains("Wr0ng") } == true)

        let good = try await PostgresConnection.connect(
            ConnectionConfiguration(parameters: [
                ("host", "127.0.0.1"), ("port", port), ("user", role), ("password", "right-Pa55"),
                ("dbname", "memory_worker"),
            ])
        )
        #expect(good.target == "postgresql://\(role):***@127.0.0.1:\(port)/memory_worker")
        good.close()
        try await admin.execute(script: "DROP ROLE \(role)")
    }

    /// A password typed into the user name (`user:password`) reaches the server as the name, which the server quotes
    /// in its refusal: masked there and in the target.
    @Test func aPasswordInTheUserNameIsMaskedInTheServersRefusal() async throws {
        let admin = try await TestDatabase.connect()
        defer { admin.close() }
        let port = try await TestDatabase.tcpPort(admin)
        let error = await connectionError(
            ConnectionConfiguration(parameters: [
                ("host", "127.0.0.1"), ("port", port), ("user", "sec:Sup3r-S3cret"), ("password", "x"),
                ("dbname", "memory_worker"),
            ])
        )
        #expect(error?.message.contains("password authentication failed for user \"sec:***\"") == true)
        #expect(error.map { !"\($0)".contains("Sup3r") } == true, "\(error.map { "\($0)" } ?? "")")
    }

    @Test func unknownDatabaseFailsClearly() async throws {
        var configuration = try TestDatabase.configuration()
        configuration["dbname"] = "no_such_database"
        let error = await connectionError(configuration)
        #expect(error?.message.contains("database \"no_such_database\" does not exist") == true)
    }

    @Test func valuesCannotInjectParameters() async throws {
        var configuration = try TestDatabase.configuration()
        configuration["dbname"] = "memory_worker user=intruder"
        let error = await connectionError(configuration)
        #expect(error?.message.contains("database \"memory_worker user=intruder\" does not exist") == true)
    }

    /// A server that accepts the TCP connection and never answers: only connect_timeout ends the wait.
    @Test func silentServerTimesOut() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 8) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        #expect(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let error = await connectionError(
            ConnectionConfiguration(parameters: [("host", "127.0.0.1"), ("port", "\(port)"), ("connect_timeout", "2")])
        )
        #expect(error?.kind == .connectFailed)
        #expect(error?.message.contains("timeout expired") == true)
    }

    @Test func closedConnectionRefusesWork() async throws {
        let connection = try await TestDatabase.connect()
        connection.close()
        connection.close()
        #expect(!connection.isUsable)
        await #expect {
            try await connection.query("SELECT 1")
        } throws: { ($0 as? PostgresConnectionError)?.kind == .closed }
    }

    @Test func killedBackendIsReportedBroken() async throws {
        let admin = try await TestDatabase.connect()
        defer { admin.close() }
        let victim = try await TestDatabase.connect()
        #expect(victim.isUsable)
        try await admin.query("SELECT pg_terminate_backend($1)", [Int(victim.backendPID)])
        // The server's goodbye arrives asynchronously; the idle check reads it without blocking.
        var usable = true
        for _ in 0..<200 where usable {
            usable = victim.isUsable
            if usable { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(!usable)
        // Its FATAL goodbye was read as a notice, which alone marks the session ended, also when the end of the
        // stream has not arrived yet.
        #expect(victim.noticeSink.serverEndedSession)
        #expect(victim.transactionStatus == .unknown)
        await #expect(throws: PostgresConnectionError.self) { try await victim.query("SELECT 1") }
    }

    @Test func aWarningNoticeDoesNotEndTheSession() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        try await connection.execute(script: "DO $$ BEGIN RAISE WARNING 'just a warning'; END $$")
        #expect(!connection.noticeSink.serverEndedSession)
        #expect(connection.isUsable)
    }

    @Test func statementsRunWithAndWithoutPreparation() async throws {
        for prepared in [true, false] {
            var configuration = try TestDatabase.configuration()
            configuration.usePreparedStatements = prepared
            let connection = try await PostgresConnection.connect(configuration)
            defer { connection.close() }
            for value in 0..<3 {
                let sum = try await connection.query("SELECT $1::int + 1", [value]).rows[0].decode(0, as: Int.self)
                #expect(sum == value + 1)
            }
            let statements = try await connection.query("SELECT count(*) FROM pg_prepared_statements").rows[0]
                .decode(0, as: Int.self)
            #expect(statements == (prepared ? 2 : 0))
        }
    }

    /// Past the cache's limit, statements still run, unnamed, whether alone or in a pipeline with their timeout, and
    /// the connection keeps no more prepared statements than the limit.
    @Test func preparedStatementsStopAtTheLimit() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        for value in 0..<(PreparedStatementCache.limit + 4) {
            let sql = "SELECT $1::int + \(value)"
            let result =
                value.isMultiple(of: 2)
                ? try await connection.query(sql, [1])
                : try await connection.query(sql, [1], statementTimeout: .seconds(30))
            #expect(try result.rows[0].decode(0, as: Int.self) == value + 1)
        }
        let statements = try await connection.query("SELECT count(*) FROM pg_prepared_statements").rows[0]
            .decode(0, as: Int.self)
        #expect(statements == PreparedStatementCache.limit)
    }

    @Test func scriptsAndTransactions() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let table = TestDatabase.uniqueName("mw_tx")
        try await connection.execute(script: "CREATE TEMP TABLE \(table) (n int); INSERT INTO \(table) VALUES (1)")
        try await connection.transaction { try await $0.query("INSERT INTO \(table) VALUES ($1)", [2]) }
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await connection.transaction { connection in
                try await connection.query("INSERT INTO \(table) VALUES ($1)", [3])
                throw Boom()
            }
        }
        let rows = try await connection.query("SELECT n FROM \(table) ORDER BY n").rows.map {
            try $0.decode(0, as: Int.self)
        }
        #expect(rows == [1, 2])
        #expect(connection.transactionStatus == .idle)
        await #expect(throws: PostgresServerError.self) {
            try await connection.execute(script: "SELECT 1; SELECT * FROM no_such_table_xyz; SELECT 3")
        }
    }

    private func connectionError(_ configuration: @autoclosure () throws -> ConnectionConfiguration) async
        -> PostgresConnectionError?
    {
        do {
            let connection = try await PostgresConnection.connect(try configuration())
            connection.close()
            Issue.record("connected, but expected a failure")
            return nil
        } catch let error as PostgresConnectionError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }
}
