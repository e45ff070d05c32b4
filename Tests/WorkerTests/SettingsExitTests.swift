import Foundation
import Testing

/// Secrets stay out of every output, and invalid settings stop every command with status 2.
@Suite struct SettingsExitTests {
    static let secret = "Zx9-Secret!"
    /// A database nothing listens on: port 1 refuses at once, so the tests do not wait for a timeout.
    static let unreachableURL = "postgresql://u:\(secret)@127.0.0.1:1/x"

    /// Database variables of the caller (and `make test`) removed, so the ones a test sets are the ones that apply.
    static let cleanDatabaseEnvironment: [String: String?] = [
        "DATABASE_URL": nil, "POSTGRES_HOST": nil, "POSTGRES_PORT": nil, "POSTGRES_DB": nil, "POSTGRES_USER": nil,
        "POSTGRES_PASSWORD": nil, "PGPASSWORD": nil, "WORKER_CONFIG": nil, "POSTGRES_POOL_SIZE": nil,
    ]

    static func environment(_ changes: [String: String?]) -> [String: String?] {
        cleanDatabaseEnvironment.merging(changes) { _, new in new }
    }

    @Test(arguments: [["config"], ["config", "--json"]])
    func configNeverPrintsThePassword(arguments: [String]) async throws {
        let output = try await WorkerProcess.run(
            arguments, environment: Self.environment(["POSTGRES_PASSWORD": Self.secret, "POSTGRES_HOST": "db.invalid"]))
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("POSTGRES_PASSWORD"), "the password's source is shown")
        #expect(!output.combined.contains(Self.secret))
    }

    @Test func configNeverPrintsAPasswordFromAURL() async throws {
        let output = try await WorkerProcess.run(
            ["config"], environment: Self.environment(["DATABASE_URL": Self.unreachableURL]))
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("127.0.0.1"))
        #expect(!output.combined.contains(Self.secret))
    }

    @Test(arguments: [["config"], ["monitor"], ["doctor"]])
    func invalidPoolSizeExitsTwoNamingTheVariable(arguments: [String]) async throws {
        let output = try await WorkerProcess.run(
            arguments,
            environment: Self.environment(["POSTGRES_POOL_SIZE": "abc", "DATABASE_URL": Self.unreachableURL]))
        #expect(output.status == 2)
        #expect(output.stderr.contains("POSTGRES_POOL_SIZE"))
        #expect(output.stderr.contains("abc"))
        #expect(!output.combined.contains(Self.secret))
    }

    @Test(arguments: [["monitor"], ["monitor", "--json"], ["doctor"]])
    func unreachableDatabaseExitsSeventyFiveWithoutThePassword(arguments: [String]) async throws {
        let output = try await WorkerProcess.run(
            arguments, environment: Self.environment(["DATABASE_URL": Self.unreachableURL]))
        #expect(output.status == 75)
        #expect(output.stderr.contains("cannot reach the database"))
        #expect(output.stderr.contains("127.0.0.1"))
        #expect(!output.combined.contains(Self.secret))
        #expect(!output.combined.contains("Zx9-Secret%21"))
    }
}
