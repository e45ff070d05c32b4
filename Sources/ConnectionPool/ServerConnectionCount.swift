import Postgres

/// Counts, on the server, the backends that carry an `application_name`: the server's side of the leak check.
///
/// It uses a connection of its own, outside every pool, so counting never borrows (or keeps) a pooled connection, and
/// it leaves its own backend out of the count.
public enum ServerConnectionCount {
    public static func count(
        applicationName: String,
        configuration: ConnectionConfiguration
    ) async throws -> Int {
        var monitorConfiguration = configuration
        monitorConfiguration["application_name"] = applicationName + "-monitor"
        let monitor = try await PostgresConnection.connect(monitorConfiguration)
        defer { monitor.close() }
        return try await monitor.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
            [applicationName]
        ).rows[0].decode(0, as: Int.self)
    }
}
