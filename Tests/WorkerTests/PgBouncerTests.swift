import Batch
import Foundation
import Jobs
import MemoryStore
import Postgres
import Settings
import Testing

@testable import ConnectionPool

/// The worker behind a real PgBouncer in transaction mode with a server pool of 2 (1 where a test needs every client
/// on the same server connection), where each transaction may run on another server connection: the same batch as
/// direct, workers migrating at once, the statement timeout, and the leak check, which cannot ask the server there.
/// One test at a time: each starts a PgBouncer and several worker processes, load the suites beside them feel.
@Suite(.serialized) struct PgBouncerTests {
    /// Every message, chunk and statistic of a store, without the ids and times the server assigns, one per line.
    static func storeContents(_ schema: String) async throws -> String {
        let connection = try await PostgresConnection.connect(try ConnectionConfiguration(try Self.directURL()))
        defer { connection.close() }
        var lines: [String] = []
        for table in ["messages", "chunks", "user_statistics", "lexeme_statistics"] {
            let result = try await connection.query(
                """
                SELECT (to_jsonb(t) - 'id' - 'ingested_at')::text AS row FROM \(schema).\(table) t ORDER BY 1
                """)
            lines += try result.rows.map { "\(table) \(try $0.decode(0, as: String.self))" }
        }
        return lines.joined(separator: "\n")
    }

    static func directURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw PgBouncerProcess.ScriptFailed(description: "DATABASE_URL is not set: run the tests with 'make test'")
        }
        return url
    }

    static func dropSchemas(_ schemas: [String]) async {
        guard let url = try? directURL(), let configuration = try? ConnectionConfiguration(url),
            let connection = try? await PostgresConnection.connect(configuration)
        else { return }
        for schema in schemas { try? await connection.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        connection.close()
    }

    /// A query job's output with the store's message ids left out (they number rows in the order concurrent
    /// transactions committed), its lines sorted (queries finish in any order).
    static func output(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            var record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(record.removeValue(forKey: "message_ids") != nil)
            return String(
                decoding: try JSONSerialization.data(withJSONObject: record, options: .sortedKeys), as: UTF8.self)
        }.sorted()
    }

    @Test func aBatchThroughPgBouncerStoresAndFindsWhatTheSameBatchDoesDirect() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        let generated = try await batch.run([
            "generate", "--users", "3", "--sessions", "4", "--messages", "300", "--seed", "14",
        ])
        #expect(generated.status == 0, "\(generated.stderr)")
        try batch.write("data.jsonl", generated.stdout)
        let users = ["user-0001", "user-0002", "user-0003"]
        let queries =
            "[thanks for the update, fermentation culture, tripod and polarizer, tournament gambit, what should I do instead]"
        try batch.write(
            "jobs.yaml",
            "jobs:\n  - {name: load, kind: ingest, source: data.jsonl, batch_size: 10, concurrency: 4}\n"
                + users.map {
                    "  - {name: ask-\($0), kind: query, user: \($0), queries: \(queries), top_k: 5, "
                        + "depends_on: load, output: out/\($0)-direct.jsonl}\n"
                }.joined())
        let suffix = UInt32.random(in: 0...UInt32.max)
        let (direct, pooled) = ("bouncer_direct_\(suffix)", "bouncer_pooled_\(suffix)")
        defer { Task { await Self.dropSchemas([direct, pooled]) } }
        try FileManager.default.createDirectory(
            at: batch.folder.appendingPathComponent("out"), withIntermediateDirectories: true)

        let directRun = try await batch.run(["jobs.yaml"], environment: ["WORKER_STORE_SCHEMA": direct])
        #expect(directRun.status == 0, "\(directRun.combined)")
        try await PgBouncerProcess.with(poolSize: 2) { bouncer in
            let jobs = try String(contentsOf: batch.folder.appendingPathComponent("jobs.yaml"), encoding: .utf8)
            try batch.write("pooled.yaml", jobs.replacingOccurrences(of: "-direct.jsonl", with: "-pooled.jsonl"))
            // prepared_statements is left at its default (true): the worker finds the pooler by itself.
            let run = try await batch.run(
                ["pooled.yaml", "--report", "json"],
                environment: ["WORKER_STORE_SCHEMA": pooled, "DATABASE_URL": bouncer.url])
            #expect(run.status == 0, "\(run.combined)")
            #expect(try await ReportSchemaTests.violation(of: Data(run.stdout.utf8)) == nil)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let leaks = try #require(report["leaks"] as? [String: Any])
            let opened = (report["pools"] as? [String: [String: Any]])?.values.first?["connections_num"] as? Int
            #expect(leaks["ok"] as? Bool == true && leaks["through_pooler"] as? Bool == true, "\(leaks)")
            #expect(opened ?? 0 > 2 && leaks["client_connections_checked"] as? Int == opened, "\(leaks)")
            #expect(leaks["client_connections_open"] as? Int == 0 && leaks["pooler_clients_left"] as? Int == 0)
            #expect(leaks["server_backends_checked"] == nil, "no server pid to ask about: \(leaks)")
        }
        #expect(try await Self.storeContents(pooled) == (try await Self.storeContents(direct)))
        #expect(try await Self.storeContents(direct).contains("user-0003"))
        var hits = 0
        for user in users {
            let out = batch.folder.appendingPathComponent("out")
            let expected = try Self.output(out.appendingPathComponent("\(user)-direct.jsonl"))
            #expect(try Self.output(out.appendingPathComponent("\(user)-pooled.jsonl")) == expected, "\(user)")
            hits += expected.count
        }
        #expect(hits > 10)
    }

    @Test func workersMigratingAtOnceThroughPgBouncerEachSucceed() async throws {
        let schema = "bouncer_migrate_\(UInt32.random(in: 0...UInt32.max))"
        defer { Task { await Self.dropSchemas([schema]) } }
        try await PgBouncerProcess.with(poolSize: 2) { bouncer in
            // Three workers, two server connections: the advisory lock each takes lasts one transaction, which holds
            // its server connection until it ends, so the others queue up in PgBouncer or on the lock.
            let runs = try await withThrowingTaskGroup(of: WorkerProcess.Output.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await WorkerProcess.run(
                            ["migrate"], environment: ["WORKER_STORE_SCHEMA": schema, "DATABASE_URL": bouncer.url])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(runs.map(\.status) == [0, 0, 0], "\(runs.map(\.combined))")
        }
        let connection = try await PostgresConnection.connect(try ConnectionConfiguration(try Self.directURL()))
        defer { connection.close() }
        let versions = try await connection.query("SELECT count(*), max(version) FROM \(schema).schema_version")
        let (count, latest) = try versions.rows[0].decode((Int, Int).self)
        #expect(count == latest && latest >= 5)
    }

    @Test func theStatementTimeoutFiresThroughPgBouncerAndEndsWithItsTransaction() async throws {
        try await PgBouncerProcess.with(poolSize: 1) { bouncer in
            let configuration = try ConnectionConfiguration(bouncer.url)
            let timed = try await PostgresConnection.connect(configuration)
            defer { timed.close() }
            let next = try await PostgresConnection.connect(configuration)
            defer { next.close() }
            #expect(timed.throughPooler && next.throughPooler)
            await #expect {
                try await timed.query("SELECT pg_sleep(60)", statementTimeout: .milliseconds(100))
            } throws: { error in
                (error as? PostgresServerError)?.sqlState == "57014"
            }
            // A statement that ends in time commits its transaction, the set_config with it: only its being local
            // to that transaction keeps the timeout from the server connection the next client gets.
            let serverAfterTimeout = try await timed.query("SELECT pg_backend_pid()", statementTimeout: .seconds(7))
                .rows[0].decode(0, as: Int32.self)
            // One server connection: the next client's statement runs on the same server process, with the
            // server's default statement_timeout (0), not the timeouts the pipelines set for their own transactions.
            let (server, setting) = try await next.query(
                "SELECT pg_backend_pid(), current_setting('statement_timeout')"
            ).rows[0].decode((Int32, String).self)
            #expect(server == serverAfterTimeout)
            #expect(setting == "0")
            // And the same statement on it still works, again and again, with no prepared statement to collide:
            // the one server connection both clients used holds none.
            let named = try await next.query("SELECT count(*) FROM pg_prepared_statements").rows[0].decode(
                0, as: Int.self)
            #expect(named == 0)
            for _ in 0..<3 { _ = try await next.query("SELECT 1", statementTimeout: .seconds(5)) }
        }
    }

    @Test func theLeakCheckThroughPgBouncerChecksTheClientSideAndCatchesALeak() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        let schema = "bouncer_leak_\(UInt32.random(in: 0...UInt32.max))"
        defer { Task { await Self.dropSchemas([schema]) } }
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\nconcurrency: 1\n")
        let jobs = try JobLoader.load(files: [batch.folder.appendingPathComponent("jobs.yaml").path])
        let store = MemoryStore(schema: schema)
        let admin = try await PostgresConnection.connect(try ConnectionConfiguration(try Self.directURL()))
        defer { admin.close() }
        _ = try await store.migrate(on: admin)
        try await PgBouncerProcess.with(poolSize: 2) { bouncer in
            let settings = try SettingsLoader.load(
                configPath: batch.folder.appendingPathComponent("config.yaml").path,
                environment: ["DATABASE_URL": bouncer.url])
            func runner(_ manager: GlobalConnectionManager, progress: (@Sendable (BatchRunner.Progress) -> Void)?)
                -> BatchRunner
            {
                var options = BatchRunner.Options()
                options.store = store
                options.progress = progress
                return BatchRunner(settings: settings, options: options, manager: manager)
            }

            let clean = await runner(GlobalConnectionManager(), progress: nil).run(jobs)
            #expect(clean.jobs.map(\.status) == [.ok], "\(clean.jobs.map { $0.error ?? "" })")
            #expect(clean.leaks.ok && clean.leaks.throughPooler == true, "\(clean.table())")
            #expect(clean.leaks.serverBackendsChecked == nil && clean.leaks.serverCheckError == nil)
            let opened = try #require(clean.pools.values.first).connectionsNum
            #expect(clean.leaks.clientConnectionsChecked == opened && clean.leaks.clientConnectionsOpen == 0)
            #expect(clean.leaks.poolerClientsLeft == 0, "\(clean.table())")
            #expect(clean.table().contains("server: not asked"), "\(clean.table())")

            // The job's insert waits on this lock (taken on the server directly), so the job is still running when
            // the stray connection is recorded and the test's pool reference is released.
            let locker = try await PostgresConnection.connect(try ConnectionConfiguration(try Self.directURL()))
            defer { locker.close() }
            try await locker.execute(script: "BEGIN; LOCK TABLE \(schema).messages IN EXCLUSIVE MODE")
            // A connection through the pooler that the pool is told it opened and that outlives the pool: what a
            // pool that lost track of a connection would leave open.
            let stray = try await PostgresConnection.connect(settings.connection)
            defer { stray.close() }
            let manager = GlobalConnectionManager()
            let leaky = await runner(manager) { progress in
                guard case .started = progress else { return }
                let reference = manager.pool(for: settings.connection, settings: settings.pool, holder: "leak test")
                reference.pool.recordOpened(stray)
                Task {
                    await manager.release(reference)
                    try await locker.execute(script: "COMMIT")
                }
            }.run(jobs)
            #expect(leaky.jobs.map(\.status) == [.ok], "\(leaky.jobs.map { $0.error ?? "" })")
            #expect(leaky.leaks.activeReferences.isEmpty, "\(leaky.table())")
            #expect(!leaky.leaks.ok && leaky.leaks.clientConnectionsOpen == 1, "\(leaky.table())")
            #expect(leaky.leaks.poolerClientsLeft == 1, "\(leaky.table())")
            #expect(leaky.exitStatus(failOnLeak: true).rawValue == 3)
            #expect(leaky.table().contains("LEAK:"), "\(leaky.table())")
        }
    }

    @Test func pingAndDoctorSayTheyGoThroughAConnectionPooler() async throws {
        try await PgBouncerProcess.with(poolSize: 1) { bouncer in
            let output = try await WorkerProcess.run(
                ["ping", "--count", "2"], environment: ["DATABASE_URL": bouncer.url])
            #expect(output.status == 0, "\(output.combined)")
            #expect(output.stdout.contains("through a connection pooler"), "\(output.stdout)")
            let doctor = try await WorkerProcess.run(["doctor"], environment: ["DATABASE_URL": bouncer.url])
            #expect(doctor.stderr.contains("worker doctor: through a connection pooler"), "\(doctor.combined)")
            let direct = try await WorkerProcess.run(["ping", "--count", "2"])
            #expect(direct.status == 0 && !direct.stdout.contains("pooler"), "\(direct.combined)")
        }
    }
}
