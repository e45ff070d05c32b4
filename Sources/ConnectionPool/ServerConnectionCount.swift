import Postgres

/// Counts backends on the server: the server's side of the leak check.
///
/// It uses a connection of its own, outside every pool and named `<application_name>-monitor`, so counting never
/// borrows (or keeps) a pooled connection and never counts itself.
public enum ServerConnectionCount {
    /// Backends named `applicationName`.
    public static func count(
        applicationName: String,
        configuration: ConnectionConfiguration
    ) async throws -> Int {
        try await count(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            [applicationName],
            monitorName: applicationName + "-monitor",
            configuration: configuration
        )
    }

    /// Backends among `pids` still on the server: what pools that closed cleanly must leave at zero, whatever other
    /// programs with the same `application_name` do meanwhile.
    public static func count(
        backendPIDs pids: [Int32],
        configuration: ConnectionConfiguration
    ) async throws -> Int {
        guard !pids.isEmpty else { return 0 }
        return try await count(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])",
            [TextArray(pids.map { String($0) })],
            monitorName: ConnectionConfiguration.defaultApplicationName + "-monitor",
            configuration: configuration
        )
    }

    private static func count(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?],
        monitorName: String,
        configuration: ConnectionConfiguration
    ) async throws -> Int {
        var monitorConfiguration = configuration
        monitorConfiguration["application_name"] = monitorName
        let monitor = try await PostgresConnection.connect(monitorConfiguration)
        defer { monitor.close() }
        return try await monitor.query(sql, parameters).rows[0].decode(0, as: Int.self)
    }
}
