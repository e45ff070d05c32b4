import Foundation
import Postgres
import Testing

@testable import Settings

/// A distinctive password, handed to the worker in every way it accepts one and in every key it does not, never
/// shows in anything any command prints or writes: stdout, stderr (logs included) and the report file, on success
/// and on every error path.
///
/// Named a fuzz suite because, like `FuzzTests`, its thousand worker processes keep both cores busy for a minute:
/// `scripts/test` runs every suite whose name holds "FuzzTests" on its own, after the others, so the timing-sensitive
/// pool tests do not starve beside it.
@Suite struct PasswordSweepFuzzTests {
    static let password = "Zx9-Sweep!pw"
    static let encoded = "Zx9-Sweep%21pw"
    /// What a leak would look like: the password, its URL encoding, or a piece of it.
    static let traces = [password, encoded, "Sweep"]

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
        ["enqueue", "jobs.yaml", "--batch", "sweep"],
        ["drain", "--until-empty", "--report", "json"],
        ["status"],
        ["status", "--json"],
    ]

    /// Scenarios running at once; each runs the commands one after another.
    static let parallelScenarios = 8

    @Test func noCommandShowsThePasswordOnAnyPath() async throws {
        let server = try await Server.start()
        let (role, host) = (server.role, server.host)
        let scenarios: [Scenario] = [
            .init(
                "right password in the URL",
                ["DATABASE_URL": "postgresql://\(role):\(Self.encoded)@\(host)/memory_worker"]),
            // A role that does not exist fails exactly as a wrong password does: "password authentication failed".
            .init("wrong password", ["DATABASE_URL": "postgresql://\(role)x:\(Self.encoded)@\(host)/memory_worker"]),
            .init(
                "password beside the URL",
                [
                    "DATABASE_URL": "postgresql://\(role)@\(host)/memory_worker",
                    "DATABASE_POSTGRES_PASSWORD": Self.password,
                ]
            ),
            .init(
                "unreachable host", ["DATABASE_URL": "postgresql://\(role):\(Self.encoded)@127.0.0.1:1/memory_worker"]),
            .init("URL without @", ["DATABASE_URL": "postgresql://\(role):\(Self.password)\(host)/memory_worker"]),
            .init("truncated URL", ["DATABASE_URL": "postgresql://\(role):Zx9-Sweep%2"]),
            .init(
                "misspelt conninfo keyword",
                [
                    "DATABASE_URL":
                        "host=127.0.0.1 port=\(server.port) user=\(role) pssword=\(Self.password) dbname=memory_worker"
                ]
            ),
        ]
        let named = scenarios.map { scenario in
            var scenario = scenario
            scenario.config = "postgres.application_name: mw-sweep-\(server.suffix)\n"
            return scenario
        }
        let statuses = try await Self.sweep(named, server: server)
        // The sweep covered success and failure: the right password ran the batch, the others failed in their ways.
        #expect(statuses["right password in the URL"]?.contains(0) == true)
        #expect(statuses["password beside the URL"]?.contains(0) == true)
        #expect(statuses["unreachable host"]?.contains(75) == true)
        // Refused credentials are configuration (2) for run and migrate; validate and config need no server.
        #expect(statuses["wrong password"]?.contains(2) == true)
        #expect(statuses["wrong password"]?.isSubset(of: [0, 2, 75]) == true)
        #expect(statuses["URL without @"]?.contains(2) == true)
        #expect(statuses["truncated URL"]?.contains(2) == true)
        try await server.stop()
    }

    /// Every key, in the environment and in the config file, holding the password where none belongs: as a URL,
    /// as `user:password@host` and as a conninfo string, on top of settings that reach the database (over its
    /// socket), so that what the worker accepts travels as far as it can (into connections, the server's errors,
    /// `pg_stat_activity`).
    @Test func aPasswordInAnyKeyNeverShows() async throws {
        let server = try await Server.start()
        let forms = [
            ("URL", "postgresql://\(server.role):\(Self.password)@\(server.host)/memory_worker"),
            ("user info", "\(server.role):\(Self.password)@127.0.0.1"),
            ("conninfo", "host=127.0.0.1 password=\(Self.password)"),
        ]
        var scenarios: [Scenario] = []
        for (index, key) in SweptKey.all.enumerated() {
            var keyForms = forms
            if key.isUser { keyForms.append(("user:password", "\(server.role):\(Self.password)")) }
            // Every form in the environment, and one in the file, taking turns. No `worker:` key takes a URL, user
            // info or conninfo string (they are numbers, seconds and identifiers), so every command refuses it before
            // it runs; one form in one place, both taking turns, is enough.
            let turn = keyForms[index % keyForms.count]
            if !key.isWorkerKey {
                for (form, value) in keyForms {
                    scenarios.append(key.scenario(form: form, value: value, inFile: false, server: server))
                }
            }
            if key.fileKeyPath != nil, !key.isWorkerKey || index % 2 == 0 {
                scenarios.append(key.scenario(form: turn.0, value: turn.1, inFile: true, server: server))
            } else if key.isWorkerKey {
                scenarios.append(key.scenario(form: turn.0, value: turn.1, inFile: false, server: server))
            }
        }
        let statuses = try await Self.sweep(scenarios.map { $0.with(retries: "1") }, server: server)
        // A host or user holding a URL or user:password@host, or a worker key holding anything of the kind, is refused
        // before anything runs: every command, `validate` and `config` included, exits 2.
        for scenario in scenarios where scenario.refused {
            #expect(statuses[scenario.name] == [2], "\(scenario.name): \(statuses[scenario.name] ?? [])")
        }
        // The base reaches the database: a harmless key with the password in it still ran the batch.
        #expect(statuses["env DATABASE_POSTGRES_APPLICATION_NAME as user info"]?.contains(0) == true)
        try await server.stop()
    }

    // MARK: - Harness

    /// One way of handing the worker settings: variables and lines for `config.yaml`.
    struct Scenario: Sendable {
        var name: String
        var environment: [String: String?]
        /// YAML appended to the folder's `config.yaml`.
        var config = ""
        /// Whether the settings must be refused (exit 2).
        var refused = false
        /// `worker.retry.attempts`: the sweep of keys has its retries covered by the first sweep and does without.
        var retries = "2"

        init(_ name: String, _ environment: [String: String?], config: String = "", refused: Bool = false) {
            self.name = name
            self.environment = environment
            self.config = config
            self.refused = refused
        }

        func with(retries: String) -> Scenario {
            var copy = self
            copy.retries = retries
            return copy
        }
    }

    /// The private cluster reached over TCP (where passwords count) by a role of the sweep's own.
    struct Server: Sendable {
        var admin: PostgresConnection
        var role: String
        var schema: String
        var port: String
        /// The folder of the server's socket, where local users are trusted: the sweep of keys connects there,
        /// since password authentication costs more than everything else its doctor runs do.
        var socket: String
        var host: String { "127.0.0.1:\(port)" }
        var suffix: UInt32

        static func start() async throws -> Server {
            let database = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
            let port = try #require(try ConnectionConfiguration(database)["port"])
            let socket = try #require(try ConnectionConfiguration(database)["host"])
            let suffix = UInt32.random(in: 0...UInt32.max)
            let admin = try await PostgresConnection.connect(try ConnectionConfiguration(database))
            let role = "mw_sweep_\(suffix)"
            // A superuser may create the store's schema without a GRANT on the database: concurrent GRANTs on the
            // same database (another test makes one) fail with "tuple concurrently updated".
            try await admin.execute(script: "CREATE ROLE \(role) LOGIN SUPERUSER PASSWORD '\(password)'")
            return Server(
                admin: admin, role: role, schema: "sweep_\(suffix)", port: port, socket: socket, suffix: suffix)
        }

        func stop() async throws {
            try await admin.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE; DROP ROLE \(role)")
            admin.close()
        }
    }

    /// Runs every command in every scenario, a few scenarios at a time, each in a folder of its own, and checks
    /// that no output shows the password; returns each scenario's exit statuses.
    static func sweep(_ scenarios: [Scenario], server: Server) async throws -> [String: Set<Int32>] {
        let statuses = try await withThrowingTaskGroup(of: (String, Set<Int32>).self) { group in
            var pending = scenarios[...]
            var results: [String: Set<Int32>] = [:]
            func startNext() {
                guard let scenario = pending.popFirst() else { return }
                group.addTask { (scenario.name, try await run(scenario, server: server)) }
            }
            for _ in 0..<parallelScenarios { startNext() }
            while let (name, statuses) = try await group.next() {
                results[name] = statuses
                startNext()
            }
            return results
        }
        print("password sweep: \(scenarios.count * commands.count) runs in \(scenarios.count) scenarios")
        return statuses
    }

    private static func run(_ scenario: Scenario, server: Server) async throws -> Set<Int32> {
        let folder = try batchFolder(server: server, config: scenario.config)
        defer { try? FileManager.default.removeItem(at: folder) }
        var statuses = Set<Int32>()
        var environment: [String: String?] = ["PGPASSWORD": nil]
        // One quick retry, unless the scenario sets retries itself.
        if !scenario.config.contains("worker.retry") {
            environment["WORKER_RETRY_ATTEMPTS"] = scenario.retries
            environment["WORKER_RETRY_INITIAL_DELAY"] = "0.01"
        }
        environment.merge(scenario.environment) { $1 }
        for command in commands {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("report.json"))
            let output = try await WorkerProcess.run(
                command, environment: SettingsExitTests.environment(environment), directory: folder)
            let report =
                (try? String(contentsOf: folder.appendingPathComponent("report.json"), encoding: .utf8)) ?? ""
            for trace in traces {
                #expect(
                    !(output.combined + report).contains(trace),
                    "\(scenario.name): worker \(command.joined(separator: " ")) showed it:\n\(output.combined)\(report)"
                )
            }
            statuses.insert(output.status)
        }
        return statuses
    }

    /// A folder with the batch every scenario runs: a config naming the store schema (plus `config`), one ingest
    /// and one query job.
    static func batchFolder(server: Server, config: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("config.yaml", "worker.store_schema: \(server.schema)\n" + config)
        try write("m.jsonl", "{\"user\": \"u\", \"session\": \"s\", \"role\": \"user\", \"content\": \"a note\"}\n")
        // Job names of the folder's own: scenarios run at once in one store, where batches of the same job names
        // would be one batch, which its lock runs once at a time.
        let batch = UInt32.random(in: 0...UInt32.max)
        try write(
            "jobs.yaml",
            "jobs:\n  - {name: load_\(batch), kind: ingest, source: m.jsonl}\n"
                + "  - {name: ask_\(batch), kind: query, user: u, queries: [note], depends_on: load_\(batch)}\n")
        return folder
    }
}

/// A key the sweep puts the password into: its variable, its place in `config.yaml`, and what it refuses.
struct SweptKey: Sendable {
    /// The variable, at the `DATABASE_POSTGRES_` layer for postgres keys so it wins over the base's `POSTGRES_*`.
    var variable: String
    /// The dotted key path in `config.yaml` (at `database.postgres` for postgres keys, over the base's `postgres:`);
    /// nil for libpq's own variables, which no file sets.
    var fileKeyPath: String?
    /// The base key this one stands in for: libpq reads its variables only where the worker sets nothing.
    var replaces: String?
    var isUser = false
    var isWorkerKey = false
    var isApplicationName: Bool { variable.hasSuffix("APPLICATION_NAME") || variable == "PGAPPNAME" }
    /// Hosts and users refuse a URL and `user:password@host`.
    var refusesCredentials = false

    /// Every key of the settings table, so a key added later is swept without anyone remembering this list.
    static let postgresKeys = SettingKey.allCases.filter { $0.section == .postgres }.map(\.rawValue)
    static let libpqVariables = [
        "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSSLMODE", "PGSSLROOTCERT", "PGAPPNAME", "PGCONNECT_TIMEOUT",
    ]
    /// `metrics_file` is left out: it takes any path, so a password-looking value is a valid file name there, not an
    /// error; `MetricsFileTests` checks that its errors mask a URL's password.
    static let workerKeys = SettingKey.workerKeys.filter { $0 != .metricsFile }.map(\.rawValue)

    static let all: [SweptKey] =
        postgresKeys.map { key in
            SweptKey(
                variable: "DATABASE_POSTGRES_\(key.uppercased())", fileKeyPath: "database.postgres.\(key)",
                isUser: key == "user", refusesCredentials: key == "host" || key == "user")
        }
        + [SweptKey(variable: "DATABASE_URL", fileKeyPath: "database.url")]
        + libpqVariables.map { variable in
            let replaced = [
                "PGHOST": "host", "PGPORT": "port", "PGDATABASE": "database", "PGUSER": "user",
                "PGAPPNAME": "application_name",
            ]
            return SweptKey(
                variable: variable, fileKeyPath: nil, replaces: replaced[variable], isUser: variable == "PGUSER",
                refusesCredentials: variable == "PGHOST" || variable == "PGUSER")
        }
        + workerKeys.map { key in
            SweptKey(
                variable: "WORKER_\(key.uppercased().replacingOccurrences(of: ".", with: "_"))",
                fileKeyPath: "worker.\(key)", isWorkerKey: true)
        }

    /// The base (settings that reach the server as the sweep's role) with this key set to `value`.
    func scenario(form: String, value: String, inFile: Bool, server: PasswordSweepFuzzTests.Server)
        -> PasswordSweepFuzzTests.Scenario
    {
        var base = [
            "host": server.socket, "port": server.port, "user": server.role,
            "password": PasswordSweepFuzzTests.password,
            "database": "memory_worker", "application_name": "mw-sweep-\(server.suffix)",
        ]
        if let replaces { base[replaces] = nil }
        // Hosts and users refuse a URL and user info; an application_name of PostgreSQL's 63 bytes or more is
        // refused too, since the server would quote it in a notice libpq prints itself; and every worker key, whose
        // values are numbers, seconds and identifiers.
        let refused =
            refusesCredentials && (form == "URL" || form == "user info")
            || isApplicationName && value.utf8.count > 55 || isWorkerKey
        if inFile, let fileKeyPath {
            let yaml = base.sorted { $0.key < $1.key }.map { "postgres.\($0.key): \(yamlString($0.value))\n" }.joined()
            return .init(
                "file \(fileKeyPath) as \(form)", [:], config: yaml + "\(fileKeyPath): \(yamlString(value))\n",
                refused: refused)
        }
        var environment: [String: String?] = [:]
        for (key, text) in base { environment["POSTGRES_\(key.uppercased())"] = text }
        environment[variable] = value
        return .init("env \(variable) as \(form)", environment, refused: refused)
    }

    private func yamlString(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
