import Glibc
import Postgres

/// Asks the server which backends are there, or a connection pooler which clients: the server's side of the leak
/// check.
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

    /// The connections among `connections` (opened through a connection pooler) that the pooler's admin console
    /// (PgBouncer's database `pgbouncer`, `SHOW CLIENTS`) still lists as its clients: by their client address and
    /// port over TCP, by this process's id (`remote_pid`) over a unix socket, where the console lists no port of
    /// the client's. Throws when the console cannot be reached or read (a user outside its `admin_users` and
    /// `stats_users`, a pooler that is not PgBouncer).
    public static func poolerClientsLeft(
        of connections: [PostgresConnection],
        configuration: ConnectionConfiguration,
        settle: Duration = .seconds(5)
    ) async throws -> Int {
        var console = configuration
        console["dbname"] = "pgbouncer"
        console.isPoolerConsole = true
        let endpoints = Set(connections.compactMap(\.localEndpoint))
        let unixSockets = connections.contains { $0.localEndpoint == nil }
        let ownPID = Int(getpid())
        return try await ask(
            monitorName: ConnectionConfiguration.defaultApplicationName + "-monitor",
            configuration: console,
            settle: settle,
            question: { console in
                let clients = try await console.simpleQuery("SHOW CLIENTS")
                return try clients.rows.filter { row in
                    guard try row.decode("database", as: String.self) != "pgbouncer" else { return false }
                    let address = try row.decode("addr", as: String.self)
                    if address == "unix" {
                        guard unixSockets else { return false }
                        return try row.decode("remote_pid", as: Int.self) == ownPID
                    }
                    return endpoints.contains("\(address):\(try row.decode("port", as: Int.self))")
                }.count
            },
            isNone: { $0 == 0 }
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
        try await ask(
            monitorName: monitorName, configuration: configuration, settle: settle,
            question: { try read(try await $0.query(sql, parameters)) }, isNone: isNone)
    }

    /// Asks `question` on a connection of its own, again until the answer is "none" or `settle` has passed.
    private static func ask<Answer>(
        monitorName: String,
        configuration: ConnectionConfiguration,
        settle: Duration,
        question: (PostgresConnection) async throws -> Answer,
        isNone: (Answer) -> Bool
    ) async throws -> Answer {
        var monitorConfiguration = configuration
        monitorConfiguration["application_name"] = monitorName
        let monitor = try await PostgresConnection.connect(monitorConfiguration)
        defer { monitor.close() }
        let deadline = ContinuousClock.now + settle
        var answer = try await question(monitor)
        while !isNone(answer), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            answer = try await question(monitor)
        }
        return answer
    }
}
