import Foundation
import Postgres
import Testing

/// When `worker run` or `worker migrate` cannot prepare the memory store, the exit status says whether a retry may
/// help (75) or something must change (2 configuration, 1 otherwise), the error carries the SQLSTATE and a hint, a
/// refusal that cannot pass is not retried, and `run` still prints and writes its report. `ping`, `monitor` and
/// `doctor` exit 2 for refused credentials too.
@Suite struct PreparationFailureTests {
    /// A folder with a one-job batch, a schema and an application name of its own, and an admin connection.
    struct Setup {
        let folder: URL
        let schema: String
        let admin: PostgresConnection
        let socket: (host: String, port: String)

        init() async throws {
            let url = try DatabaseCommandTests.databaseURL()
            let configuration = try ConnectionConfiguration(url)
            socket = (configuration["host"] ?? "", configuration["port"] ?? "")
            let suffix = UInt32.random(in: 0...UInt32.max)
            schema = "prepare_\(suffix)"
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-prepare-\(suffix)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            // One connection is all these runs need; the default ten would only load the shared cluster.
            try """
            worker:
              store_schema: \(schema)
            postgres:
              application_name: mw-prepare-\(suffix)
              pool_size: 1
              max_overflow: 1

            """.write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
            try "name: ask\nkind: query\nuser: u\nqueries: [x]\n"
                .write(to: folder.appendingPathComponent("jobs.yaml"), atomically: true, encoding: .utf8)
            admin = try await PostgresConnection.connect(configuration)
        }

        /// Runs the worker in the folder with `DATABASE_URL` set to `database` (the test cluster by default).
        func run(_ arguments: [String], database: String? = nil, _ environment: [String: String?] = [:]) async throws
            -> WorkerProcess.Output
        {
            let changes = environment.merging(["DATABASE_URL": try database ?? DatabaseCommandTests.databaseURL()]) {
                first, _ in first
            }
            return try await WorkerProcess.run(
                arguments, environment: SettingsExitTests.environment(changes), directory: folder)
        }

        /// The report `run` wrote with `--report-file report.json`.
        func writtenReport() throws -> [String: Any] {
            let data = try Data(contentsOf: folder.appendingPathComponent("report.json"))
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }

        func remove() async {
            try? FileManager.default.removeItem(at: folder)
            try? await admin.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE")
            admin.close()
        }
    }

    static let reportArguments = ["jobs.yaml", "--report", "json", "--report-file", "report.json"]

    /// The `batch` object of a JSON report printed on stdout.
    static func batch(_ stdout: String) throws -> [String: Any] {
        let report = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
        return try #require(report?["batch"] as? [String: Any], "no JSON report on stdout: \(stdout)")
    }

    @Test func aRoleWithoutCreatePrivilegeExitsOneWithTheSQLStateAndAHint() async throws {
        let setup = try await Setup()
        let role = "mw_nocreate_\(UInt32.random(in: 0...UInt32.max))"
        try await setup.admin.execute(script: "CREATE ROLE \(role) LOGIN")
        defer { Task { try? await setup.admin.execute(script: "DROP ROLE IF EXISTS \(role)") } }
        let database = "host=\(setup.socket.host) port=\(setup.socket.port) dbname=memory_worker user=\(role)"

        let run = try await setup.run(Self.reportArguments, database: database)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("42501") && run.stderr.contains("hint: "), "\(run.stderr)")
        let batch = try Self.batch(run.stdout)
        #expect(batch["status"] as? String == "failed")
        let failure = try #require(batch["failure"] as? [String: Any])
        #expect(failure["kind"] as? String == "permanent" && failure["sqlstate"] as? String == "42501")
        #expect((failure["hint"] as? String)?.contains("CREATE") == true)
        #expect(try setup.writtenReport()["batch"] as? [String: Any] != nil, "the report file was written")

        let migrate = try await setup.run(["migrate"], database: database)
        #expect(migrate.status == 1, "\(migrate.stderr)")
        #expect(migrate.stderr.contains("42501") && migrate.stderr.contains("hint: "))
        await setup.remove()
    }

    @Test func aTextSearchConfigOtherThanTheStoresExitsTwo() async throws {
        let setup = try await Setup()
        let created = try await setup.run(["migrate"])
        #expect(created.status == 0, "\(created.stderr)")

        let simple: [String: String?] = ["WORKER_TEXT_SEARCH_CONFIG": "simple"]
        let run = try await setup.run(Self.reportArguments, simple)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("WORKER_TEXT_SEARCH_CONFIG") && run.stderr.contains("'english'"))
        let failure = try #require(try Self.batch(run.stdout)["failure"] as? [String: Any])
        #expect(failure["kind"] as? String == "configuration")
        #expect(try setup.writtenReport()["jobs"] as? [[String: Any]] != nil, "the report file was written")

        let migrate = try await setup.run(["migrate"], simple)
        #expect(migrate.status == 2, "\(migrate.stderr)")
        let unknown = try await setup.run(
            ["migrate"], ["WORKER_STORE_SCHEMA": setup.schema + "_new", "WORKER_TEXT_SEARCH_CONFIG": "klingon"])
        #expect(unknown.status == 2, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("unknown text search configuration 'klingon'"))
        await setup.remove()
    }

    /// libpq's "no password supplied" and the server's "password authentication failed" cannot pass: one attempt,
    /// no retry line, exit 2, whatever `worker.retry.attempts` allows.
    @Test(arguments: [
        (nil, "no password supplied", nil), ("wrong", "password authentication failed", "28P01"),
    ])
    func refusedCredentialsFailAtOnceWithExitTwo(password: String?, message: String, sqlState: String?) async throws {
        let setup = try await Setup()
        // The socket trusts everyone; the same port over TCP asks for a password.
        let credentials = password.map { "postgres:\($0)" } ?? "postgres"
        let database = "postgresql://\(credentials)@127.0.0.1:\(setup.socket.port)/memory_worker"
        let run = try await setup.run(
            Self.reportArguments, database: database,
            ["PGPASSFILE": "/nonexistent/pgpass", "WORKER_RETRY_ATTEMPTS": "6"])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(!run.stderr.contains("retrying"), "\(run.stderr)")
        let failure = try #require(try Self.batch(run.stdout)["failure"] as? [String: Any])
        #expect(failure["kind"] as? String == "configuration")
        #expect(failure["sqlstate"] as? String == sqlState)
        #expect(failure["hint"] is String)
        // The commands that only connect see the same refusal the same way.
        for command in [["migrate"], ["ping"], ["monitor"], ["doctor"]] {
            let output = try await setup.run(command, database: database, ["PGPASSFILE": "/nonexistent/pgpass"])
            #expect(output.status == 2, "worker \(command[0]): \(output.stderr)")
            #expect(output.stderr.contains(message), "worker \(command[0]): \(output.stderr)")
        }
        await setup.remove()
    }
}
