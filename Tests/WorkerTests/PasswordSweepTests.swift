import Foundation
import Postgres
import Testing

/// A distinctive password, handed to the worker in every way it accepts one, never shows in anything any command
/// prints or writes: stdout, stderr (logs included) and the report file, on success and on every error path.
@Suite struct PasswordSweepTests {
    static let password = "Zx9-Sweep!pw"
    /// What a leak would look like: the password, its URL encoding, or a piece of it.
    static let traces = [password, "Zx9-Sweep%21pw", "Sweep"]

    static let commands: [[String]] = [
        ["jobs.yaml", "--report", "json", "--report-file", "report.json"],
        ["jobs.yaml", "--report", "table"],
        ["validate", "jobs.yaml"],
        ["migrate"],
        ["config"],
        ["config", "--json"],
        ["ping", "--count", "3"],
        ["monitor", "--json", "--duration", "0.3", "--interval", "0.1"],
        ["doctor"],
    ]

    @Test func noCommandShowsThePasswordOnAnyPath() async throws {
        let database = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
        let port = try #require(try ConnectionConfiguration(database)["port"])
        let suffix = UInt32.random(in: 0...UInt32.max)
        let role = "mw_sweep_\(suffix)"
        let schema = "sweep_\(suffix)"
        let admin = try await PostgresConnection.connect(try ConnectionConfiguration(database))
        // A superuser may create the store's schema without a GRANT on the database: concurrent GRANTs on the same
        // database (another test makes one) fail with "tuple concurrently updated".
        try await admin.execute(script: "CREATE ROLE \(role) LOGIN SUPERUSER PASSWORD '\(Self.password)'")
        let encoded = "Zx9-Sweep%21pw"
        let host = "127.0.0.1:\(port)"
        let scenarios: [(name: String, environment: [String: String?])] = [
            ("right password in the URL", ["DATABASE_URL": "postgresql://\(role):\(encoded)@\(host)/memory_worker"]),
            // A role that does not exist fails exactly as a wrong password does: "password authentication failed".
            ("wrong password", ["DATABASE_URL": "postgresql://\(role)x:\(encoded)@\(host)/memory_worker"]),
            (
                "password beside the URL",
                [
                    "DATABASE_URL": "postgresql://\(role)@\(host)/memory_worker",
                    "DATABASE_POSTGRES_PASSWORD": Self.password,
                ]
            ),
            ("unreachable host", ["DATABASE_URL": "postgresql://\(role):\(encoded)@127.0.0.1:1/memory_worker"]),
            ("URL without @", ["DATABASE_URL": "postgresql://\(role):\(Self.password)\(host)/memory_worker"]),
            ("truncated URL", ["DATABASE_URL": "postgresql://\(role):Zx9-Sweep%2"]),
            (
                "misspelt conninfo keyword",
                [
                    "DATABASE_URL":
                        "host=127.0.0.1 port=\(port) user=\(role) pssword=\(Self.password) dbname=memory_worker"
                ]
            ),
        ]
        // Scenarios run side by side, each in a folder of its own; a failing connection is retried once, briefly.
        let statuses = try await withThrowingTaskGroup(of: (String, Set<Int32>).self) { group in
            for scenario in scenarios {
                group.addTask {
                    let folder = try Self.batchFolder(schema: schema, suffix: suffix)
                    defer { try? FileManager.default.removeItem(at: folder) }
                    var statuses = Set<Int32>()
                    for command in Self.commands {
                        try? FileManager.default.removeItem(at: folder.appendingPathComponent("report.json"))
                        let changes = scenario.environment.merging([
                            "PGPASSWORD": nil, "WORKER_RETRY_ATTEMPTS": "2", "WORKER_RETRY_INITIAL_DELAY": "0.01",
                        ]) { $1 }
                        let output = try await WorkerProcess.run(
                            command, environment: SettingsExitTests.environment(changes), directory: folder)
                        let report =
                            (try? String(contentsOf: folder.appendingPathComponent("report.json"), encoding: .utf8))
                            ?? ""
                        for trace in Self.traces {
                            #expect(
                                !(output.combined + report).contains(trace),
                                "\(scenario.name): worker \(command.joined(separator: " ")) showed it:\n\(output.combined)"
                            )
                        }
                        statuses.insert(output.status)
                    }
                    return (scenario.name, statuses)
                }
            }
            return try await group.reduce(into: [String: Set<Int32>]()) { $0[$1.0] = $1.1 }
        }
        // The sweep covered success and failure: the right password ran the batch, the others failed in their ways.
        #expect(statuses["right password in the URL"]?.contains(0) == true)
        #expect(statuses["password beside the URL"]?.contains(0) == true)
        #expect(statuses["unreachable host"]?.contains(75) == true)
        // Refused credentials are configuration (2) for run and migrate; validate and config need no server.
        #expect(statuses["wrong password"]?.contains(2) == true)
        #expect(statuses["wrong password"]?.isSubset(of: [0, 2, 75]) == true)
        #expect(statuses["URL without @"]?.contains(2) == true)
        #expect(statuses["truncated URL"]?.contains(2) == true)
        print(
            "password sweep: \(scenarios.count * Self.commands.count) runs, exit statuses \(statuses.mapValues { $0.sorted() })"
        )

        try await admin.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE; DROP ROLE \(role)")
        admin.close()
    }

    /// A folder with the batch every scenario runs: a config naming the store schema, one ingest and one query job.
    static func batchFolder(schema: String, suffix: UInt32) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write(
            "config.yaml", "worker:\n  store_schema: \(schema)\npostgres:\n  application_name: mw-sweep-\(suffix)\n")
        try write("m.jsonl", "{\"user\": \"u\", \"session\": \"s\", \"role\": \"user\", \"content\": \"a note\"}\n")
        try write(
            "jobs.yaml",
            "jobs:\n  - {name: load, kind: ingest, source: m.jsonl}\n"
                + "  - {name: ask, kind: query, user: u, queries: [note], depends_on: load}\n")
        return folder
    }
}
