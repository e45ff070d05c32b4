import Foundation
import Postgres
import Testing

/// The private test cluster, named by `DATABASE_URL` (`make test` starts it and sets the variable).
enum TestDatabase {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String { "DATABASE_URL is not set: run the tests with 'make test', which starts the cluster" }
    }

    static func configuration(applicationName: String? = nil) throws -> ConnectionConfiguration {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        var configuration = try ConnectionConfiguration(url)
        if let applicationName { configuration["application_name"] = applicationName }
        return configuration
    }

    static func connect(applicationName: String? = nil) async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration(applicationName: applicationName))
    }

    /// A name no other test uses, for tables, roles and application names.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The cluster's TCP port, where password authentication applies (the socket trusts everyone).
    static func tcpPort(_ connection: PostgresConnection) async throws -> String {
        try await connection.query("SELECT current_setting('port')").rows[0].decode(0, as: String.self)
    }
}
