import Testing

@testable import Postgres

@Suite struct ConnectionConfigurationTests {
    @Test func parsesURLs() throws {
        let configuration = try ConnectionConfiguration(
            "postgresql://ann:p%40ss@db.example:6543/memories?sslmode=require")
        #expect(configuration["user"] == "ann")
        #expect(configuration["password"] == "p@ss")
        #expect(configuration["host"] == "db.example")
        #expect(configuration["port"] == "6543")
        #expect(configuration["dbname"] == "memories")
        #expect(configuration["sslmode"] == "require")
        #expect(configuration.maskedURL == "postgresql://ann:***@db.example:6543/memories")
    }

    @Test func parsesConninfo() throws {
        let configuration = try ConnectionConfiguration("host=/tmp/sock port=5433 dbname='my db' user=bob")
        #expect(configuration["host"] == "/tmp/sock")
        #expect(configuration["dbname"] == "my db")
        #expect(configuration.maskedURL == "postgresql://bob@%2Ftmp%2Fsock:5433/my%20db")
    }

    @Test func malformedStringsFailWithoutShowingThePassword() {
        let malformed = [
            "postgresql://u:Sup3rS3cret@h/d?nosuch=1", "postgresql://u:Sup3rS3cret@[::1/d",
            "host=h password='Sup3rS3cret", "host=h password",
        ]
        for bad in malformed {
            #expect {
                try ConnectionConfiguration(bad)
            } throws: { error in
                guard let error = error as? PostgresConnectionError else { return false }
                return error.kind == .invalidConfiguration && !"\(error)".contains("Sup3rS3cret")
            }
        }
    }

    @Test func printingAConfigurationNeverShowsThePassword() throws {
        let configuration = try ConnectionConfiguration("postgresql://u:Sup3rS3cret@h/d")
        for shown in ["\(configuration)", String(describing: configuration), String(reflecting: configuration)] {
            #expect(!shown.contains("Sup3rS3cret"))
            #expect(shown.contains("postgresql://u:***@h"))
        }
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("Sup3rS3cret"))
    }

    /// Each part is masked before it is percent-encoded, which would otherwise hide it from the mask.
    @Test func aPasswordInAnotherPartIsMaskedInTheURL() {
        let configuration = ConnectionConfiguration(parameters: [
            ("host", "postgresql://sec:Sup3rS3cret@h/db"), ("user", "sec:Sup3rS3cret"),
            ("dbname", "db password=Sup3rS3cret"),
        ])
        #expect(!configuration.maskedURL.contains("Sup3rS3cret"), "\(configuration.maskedURL)")
        #expect(!configuration.redact("user \"sec:Sup3rS3cret\" at \"sec:Sup3rS3cret@h\"").contains("Sup3rS3cret"))
        // libpq's database defaults to the user, and carries its password along.
        let userOnly = ConnectionConfiguration(parameters: [("host", "h"), ("port", "1"), ("user", "sec:Sup3rS3cret")])
        #expect(userOnly.maskedURL == "postgresql://sec%3A***@h:1/sec%3A***")
    }

    @Test func defaultsApplicationNameAndTimeoutWithoutOverridingTheUser() {
        let plain = ConnectionConfiguration(parameters: [("dbname", "x")]).effectiveParameters
        #expect(plain.contains { $0 == ("fallback_application_name", "memory-worker") })
        #expect(plain.contains { $0 == ("client_encoding", "UTF8") })
        let named = ConnectionConfiguration(parameters: [("application_name", "mine")]).effectiveParameters
        #expect(!named.contains { $0.keyword == "fallback_application_name" })
    }

    /// Values travel to libpq as keyword/value arrays: one that looks like more conninfo stays one value, so the
    /// server is asked for a database of that odd name rather than being pointed elsewhere.
    @Test func aValueCannotInjectParameters() async throws {
        var configuration = try TestDatabase.configuration()
        configuration["dbname"] = "memory_worker dbname=postgres user=nobody"
        configuration["application_name"] = "x' options='-c statement_timeout=1"
        let refused = await #expect(throws: PostgresConnectionError.self) {
            try await PostgresConnection.connect(configuration)
        }
        #expect(
            refused?.message.contains("database \"memory_worker dbname=postgres user=nobody\" does not exist") == true,
            "\(refused?.message ?? "")")

        configuration["dbname"] = try TestDatabase.configuration()["dbname"]
        let connection = try await PostgresConnection.connect(configuration)
        defer { connection.close() }
        let (name, timeout) = try await connection.query(
            "SELECT current_setting('application_name'), current_setting('statement_timeout')"
        ).rows[0].decode((String, String).self)
        #expect(name == "x' options='-c statement_timeout=1")
        #expect(timeout == "0")
    }
}
