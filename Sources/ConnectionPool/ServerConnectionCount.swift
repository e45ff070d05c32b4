import Postgres

/// Asks the server which backends are there: the server's side of the leak check.
///
/// It uses a connection of its own, outside every pool and named `<application_name>-monitor`, so asking never
/// borrows (or keeps) a pooled connection and never counts itself. A backend leaves `pg_stat_activity` a moment
/// after its client closes, not at once, so a question with a `settle` time is asked again until the answer is
/// "none" or that time has passed.
public enum ServerConnectionCount {
    /// Backends named `applicationName`.
    public static func count(
        applicationName: String,
        configuration: ConnectionConfiguration,
        settle: Duration = .zero
    ) async throws -> Int {
        try await ask(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            [applicationName],
            monitorName: applicationName + "-monitor",
            configuration: configuration,
            settle: settle,
            read: { try $0.rows[0].decode(0, as: Int.self) },
            isNone: { $0 == 0 }
        )
    }

    /// The backends among `pids` still on the server, in ascending order: what pools that closed cleanly must leave
    /// empty, whatever other programs with the same `application_name` do meanwhile.
    public static func backendsLeft(
        among pids: [Int32],
        configuration: ConnectionConfiguration,
        settle: Duration = .seconds(5)
    ) async throws -> [Int32] {
        try await ask(
            "SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int4[]) ORDER BY pid",
            [TextArray(pids.map { String($0) })],
            monitorName: ConnectionConfiguration.defaultApplicationName + "-monitor",
            configuration: configuration,
            settle: settle,
            read: { result in try result.rows.map { try $0.decode(0, as: Int32.self) } },
            isNone: \.isEmpty
        )
    }

    private static func ask<Answer>(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?],
        monitorName: String,
        configuration: ConnectionConfiguration,
        settle: Duration,
        read: (PostgresResult) throws -> Answer,
        isNone: (Answer) -> Bool
    ) async throws -> Answer {
        var monitorConfiguration = configuration
        monitorConfiguration["application_name"] = monitorName
        let monitor = try await PostgresConnection.connect(monitorConfiguration)
        defer { monitor.close() }
        let deadline = ContinuousClock.now + settle
        var answer = try read(try await monitor.query(sql, parameters))
        while !isNone(answer), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            answer = try read(try await monitor.query(sql, parameters))
        }
        return answer
    }
}
