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

    @Test func defaultsApplicationNameAndTimeoutWithoutOverridingTheUser() {
        let plain = ConnectionConfiguration(parameters: [("dbname", "x")]).effectiveParameters
        #expect(plain.contains { $0 == ("fallback_application_name", "memory-worker") })
        #expect(plain.contains { $0 == ("client_encoding", "UTF8") })
        let named = ConnectionConfiguration(parameters: [("application_name", "mine")]).effectiveParameters
        #expect(!named.contains { $0.keyword == "fallback_application_name" })
    }
}
