import Batch
import ConnectionPool
import Foundation
import Jobs
import MemoryStore
import Postgres
import Queue
import Settings
import Testing

/// A drain in this process against the private cluster: it runs what it claims like `worker run`, records each
/// ending, and ends with a leak check the queue keeps.
@Suite struct DrainerTests {
    struct Fixture {
        let schema = "drain_\(UInt32.random(in: 0...UInt32.max))"
        let folder: URL
        let settings: WorkerSettings
        let manager = GlobalConnectionManager()
        let admin: PostgresConnection

        init() async throws {
            let url = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-\(schema)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let config = folder.appendingPathComponent("config.yaml")
            try "postgres:\n  application_name: mw-\(schema)\n  pool_size: 2\nworker:\n  store_schema: \(schema)\n"
                .write(to: config, atomically: true, encoding: .utf8)
            settings = try SettingsLoader.load(configPath: config.path, environment: ["DATABASE_URL": url])
            admin = try await PostgresConnection.connect(settings.connection)
        }

        func drainer(maxAttempts: Int = 5) -> Drainer {
            var options = Drainer.Options()
            options.untilEmpty = true
            options.retryDelay = .zero
            options.pollInterval = .milliseconds(50)
            options.host = "test-host"
            options.batch.store = MemoryStore(schema: schema)
            return Drainer(settings: settings, options: options, manager: manager)
        }

        func enqueue(_ jobs: [Job], maxAttempts: Int = 5) async throws {
            let reference = manager.pool(for: settings.connection, settings: settings.pool, holder: "enqueue")
            let store = MemoryStore(schema: schema)
            try await reference.pool.withConnection { _ = try await store.migrate(on: $0) }
            let queue = try JobQueue(store: store, pool: reference.pool)
            try await queue.prepare()
            _ = try await queue.enqueue(jobs, name: "b", files: [], maxAttempts: maxAttempts, by: "test")
            await manager.release(reference)
        }

        func remove() async {
            try? await admin.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE")
            admin.close()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    @Test func aDrainRunsEveryReadyJobAndTheQueueKeepsItsLeakCheck() async throws {
        let fixture = try await Fixture()
        let messages = (0..<30).map {
            Message(
                user: "ann", session: "s", position: $0, role: .user, content: "sourdough starter day \($0)",
                line: $0 + 1)
        }
        let output = fixture.folder.appendingPathComponent("hits.jsonl")
        try await fixture.enqueue([
            Job(
                name: "load", file: "j.yaml", line: 1,
                kind: .ingest(IngestSpec(source: .inline(messages), batchSize: 7))),
            Job(
                name: "ask", file: "j.yaml", line: 5,
                kind: .query(
                    QuerySpec(
                        user: "ann", source: .inline([QueryItem(user: "ann", query: "sourdough", line: 1)]),
                        output: output)),
                dependsOn: ["load"]),
        ])
        let drainer = fixture.drainer()
        let result = await drainer.run()
        #expect(result.report.jobs.map(\.name) == ["b/load", "b/ask"])
        #expect(result.report.jobs.allSatisfy { $0.status == .ok })
        #expect(result.report.leaks.ok)
        #expect(await drainer.record(result, exitStatus: 0) == nil)
        let stored = try await fixture.admin.query("SELECT count(*) FROM \(fixture.schema).messages").rows[0]
            .decode(0, as: Int.self)
        #expect(stored == 30)
        #expect(try String(contentsOf: output, encoding: .utf8).split(separator: "\n").count == 5)

        let status = try await QueueStatus.read(nil, store: MemoryStore(schema: fixture.schema), on: fixture.admin)
        let batch = try #require(status.batches.first)
        #expect(batch.states["done"] == 2)
        #expect(batch.jobs.allSatisfy { $0.host == "test-host" && $0.poolUsage != nil })
        let drain = try #require(batch.drains.first)
        #expect(drain.leaksOK == true && drain.exitStatus == 0)
        #expect(status.table().contains("leak check passed"))
        await fixture.remove()
    }

    /// The queue's leak verdicts are read back, not assumed: a drain whose check failed shows as such.
    @Test func aDrainWhoseLeakCheckFailedShowsInTheStatus() async throws {
        let fixture = try await Fixture()
        try await fixture.enqueue([TestJobs.inline("load")])
        let drainer = fixture.drainer()
        var result = await drainer.run()
        result.report.leaks.ok = false
        result.report.leaks.openPools = ["postgresql://u:***@h/db"]
        #expect(await drainer.record(result, exitStatus: 3) == nil)
        let status = try await QueueStatus.read("b", store: MemoryStore(schema: fixture.schema), on: fixture.admin)
        #expect(status.batches.first?.drains.first?.leaksOK == false)
        #expect(status.table().contains("LEAK CHECK FAILED: 1 pool(s) open"))
        await fixture.remove()
    }

    @Test func aSourceTheHostCannotReadFailsEachAttemptNamingHostAndPathUntilTheJobIsDead() async throws {
        let fixture = try await Fixture()
        let missing = fixture.folder.appendingPathComponent("not-mounted/data.jsonl")
        try await fixture.enqueue(
            [
                Job(name: "load", file: "j.yaml", line: 1, kind: .ingest(IngestSpec(source: .file(missing)))),
                TestJobs.inline("after", dependsOn: ["load"]),
            ], maxAttempts: 2)
        let result = await fixture.drainer().run()
        #expect(result.report.leaks.ok)
        let rows = try await fixture.admin.query(
            "SELECT name, state, attempts, last_error FROM \(fixture.schema).queue_jobs ORDER BY position")
        let (name, state, attempts, error) = try rows.rows[0].decode((String, String, Int, String?).self)
        #expect(name == "load" && state == "dead" && attempts == 2)
        #expect(error?.contains("host test-host cannot read source \(missing.path) (no such file)") == true)
        #expect(try rows.rows[1].decode(1, as: String.self) == "skipped")
        await fixture.remove()
    }
}

enum TestJobs {
    static func inline(_ name: String, dependsOn: [String] = []) -> Job {
        let message = Message(user: "u", session: "s", position: 0, role: .user, content: name, line: 1)
        return Job(
            name: name, file: "j.yaml", line: 1, kind: .ingest(IngestSpec(source: .inline([message]))),
            dependsOn: dependsOn)
    }
}
