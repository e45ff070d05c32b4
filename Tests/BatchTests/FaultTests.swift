import Batch
import ConnectionPool
import Foundation
import Jobs
import MemoryStore
import Postgres
import Settings
import Support
import Testing

/// Faults during a batch: units are retried on fresh connections and data lands exactly once; a database that
/// stays away fails the job as unavailable (exit 75) with everything closed.
@Suite struct FaultTests {
    /// Messages for `users` users, `perUser` each, as JSON Lines.
    static func messages(users: Int, perUser: Int) -> String {
        var text = ""
        for user in 0..<users {
            for index in 0..<perUser {
                text += "{\"user\": \"u\(user)\", \"session\": \"s\(index / 10)\", \"role\": \"user\", "
                text += "\"content\": \"note \(index) about topic \(index % 7)\"}\n"
            }
        }
        return text
    }

    @Test func killedBackendsMidJobAreRetriedAndEveryMessageLandsOnce() async throws {
        let fixture = try BatchFixture("killed")
        let settings = try fixture.settings(poolSize: 2, maxOverflow: 2)
        defer { fixture.remove(settings) }
        try fixture.write("data.jsonl", Self.messages(users: 8, perUser: 250))
        let file = try fixture.write(
            "jobs.yaml",
            "name: load\nkind: ingest\nsource: data.jsonl\nbatch_size: 20\nconcurrency: 4\n"
        )
        var options = BatchRunner.Options()
        options.store = MemoryStore(schema: fixture.schema)
        // A kill fails at most the one unit running on that backend, so with fewer kills in all than tries per unit
        // no unit can run out of tries, however slow the machine: only a retry that does not work fails this test.
        let killLimit = 40
        options.retry = RetryPolicy(
            attempts: killLimit + 1, initialDelay: .milliseconds(5), maximumDelay: .milliseconds(50))
        // Kill only once the job runs: the schema migration before it is not what this test is about.
        let started = Locked(false)
        options.progress = { progress in
            if case .started = progress { started.withLock { $0 = true } }
        }
        let runner = BatchRunner(settings: settings, options: options, manager: .init())
        let admin = try await PostgresConnection.connect(settings.connection)
        defer { admin.close() }
        let done = Locked(false)
        let killer = Task {
            var kills = 0
            while !done.withLock({ $0 }), kills < killLimit {
                guard started.withLock({ $0 }) else {
                    try await Task.sleep(for: .milliseconds(2))
                    continue
                }
                kills += try await admin.query(
                    """
                    SELECT count(pg_terminate_backend(pid)) FROM (
                        SELECT pid FROM pg_stat_activity
                        WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid() LIMIT $2) AS chosen
                    """,
                    [fixture.applicationName, killLimit - kills]
                ).rows[0].decode(0, as: Int.self)
                try await Task.sleep(for: .milliseconds(15))
            }
            return kills
        }
        let report = await runner.run(try JobLoader.load(files: [file]))
        done.withLock { $0 = true }
        let kills = try await killer.value
        #expect(report.jobs[0].status == .ok, "\(report.jobs[0].error ?? "")")
        #expect(report.jobs[0].inserted == 2000)
        #expect(kills > 0 && (report.jobs[0].retries > 0 || report.pools.values.first?.connectionsLost ?? 0 > 0))
        let stored = try await admin.query("SELECT count(*) FROM \(fixture.schema).messages").rows[0].decode(
            0, as: Int.self)
        #expect(stored == 2000)
        #expect(report.leaks.ok)
        // The server was asked about every backend the pool opened: the first ones and each replacement.
        let opened = report.pools.values.first?.connectionsNum ?? 0
        #expect(report.leaks.serverBackendsChecked == opened && report.leaks.serverBackendsLeft == [])
        print("killed \(kills) backend(s) mid-job; \(report.jobs[0].retries) unit retries")
    }

    @Test func aDatabaseThatStaysAwayFailsTheJobAsUnavailable() async throws {
        let fixture = try BatchFixture("away")
        let base = try fixture.settings(poolSize: 1, maxOverflow: 1)
        let admin = try await PostgresConnection.connect(base.connection)
        defer { admin.close() }
        let role = "mw_away_\(UInt32.random(in: 0...UInt32.max))"
        try await admin.execute(script: "CREATE ROLE \(role) LOGIN; GRANT CREATE ON DATABASE memory_worker TO \(role)")
        var settings = base
        settings.connection["user"] = role
        defer {
            fixture.remove(base)
            Task {
                try? await admin.execute(
                    script: "REVOKE CREATE ON DATABASE memory_worker FROM \(role); DROP ROLE \(role)")
            }
        }
        try fixture.write("data.jsonl", Self.messages(users: 4, perUser: 200))
        let file = try fixture.write("jobs.yaml", "name: load\nkind: ingest\nsource: data.jsonl\nbatch_size: 10\n")
        var options = BatchRunner.Options()
        options.store = MemoryStore(schema: fixture.schema)
        options.retry = RetryPolicy(attempts: 3, initialDelay: .milliseconds(10), maximumDelay: .milliseconds(20))
        options.progress = { progress in
            guard case .started = progress else { return }
            // Once the job runs, the role may no longer connect and its backends go: the database is "down" for it.
            Task {
                try? await admin.execute(script: "ALTER ROLE \(role) CONNECTION LIMIT 0")
                _ = try? await admin.query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                    [role]
                )
            }
        }
        let report = await BatchRunner(settings: settings, options: options, manager: .init())
            .run(try JobLoader.load(files: [file]))
        #expect(report.jobs[0].status == .failed)
        #expect(report.jobs[0].databaseUnavailable)
        #expect(report.exitStatus(failOnLeak: true).rawValue == 75)
        #expect(report.leaks.outstandingLeases.isEmpty && report.leaks.openPools.isEmpty)
        #expect(report.pools.values.first?.poolClosed == true)
    }

    /// A job whose units hold every connection (each blocked on a table lock) starves the other job: its units time
    /// out with the pool's error, which names the setting and the holders; the report counts the timeouts against
    /// that job; once the lock goes, the first job completes and nothing leaks.
    @Test func aJobHoldingEveryConnectionMakesTheOthersTimeOut() async throws {
        let fixture = try BatchFixture("exhausted")
        let settings = try fixture.settings(poolSize: 1, maxOverflow: 2, poolTimeout: 1)
        defer { fixture.remove(settings) }
        try fixture.write("data.jsonl", Self.messages(users: 3, perUser: 30))
        // Enough queries that the hog's units have asked for connections long before the lookup could finish.
        let queries = (0..<300).map { "\"topic \($0 % 7)\"" }.joined(separator: ", ")
        let file = try fixture.write(
            "jobs.yaml",
            """
            jobs:
              - name: hog
                kind: ingest
                source: data.jsonl
                batch_size: 10
                concurrency: 3
              - name: lookup
                kind: query
                user: u0
                concurrency: 1
                queries: [\(queries)]
            """
        )
        let admin = try await PostgresConnection.connect(settings.connection)
        defer { admin.close() }
        let store = MemoryStore(schema: fixture.schema)
        _ = try await store.migrate(on: admin)
        // The hog's inserts wait on this lock while holding their connections; the lookup's reads do not need it.
        let locker = try await PostgresConnection.connect(settings.connection)
        defer { locker.close() }
        try await locker.execute(script: "BEGIN; LOCK TABLE \(fixture.schema).messages IN EXCLUSIVE MODE")
        var options = BatchRunner.Options()
        options.parallelJobs = 2
        options.store = store
        options.progress = { progress in
            guard case .finished(job: "lookup", _, _, _) = progress else { return }
            Task { try await locker.execute(script: "COMMIT") }
        }
        let report = await BatchRunner(settings: settings, options: options, manager: .init())
            .run(try JobLoader.load(files: [file]))
        let hog = try #require(report.jobs.first { $0.name == "hog" })
        let lookup = try #require(report.jobs.first { $0.name == "lookup" })
        #expect(lookup.status == .failed)
        #expect(lookup.poolUsage?.timeouts ?? 0 >= 1)
        #expect(hog.poolUsage?.timeouts == 0)
        let error = lookup.error ?? ""
        #expect(error.contains("(pool_timeout): all 3 of max_size 3 are leased"), "\(error)")
        #expect(error.contains("held by: hog"), "\(error)")
        #expect(hog.status == .ok, "\(hog.error ?? "")")
        #expect(hog.inserted == 90)
        #expect(report.exitStatus(failOnLeak: true).rawValue == 1)
        #expect(report.leaks.ok, "\(report.leaks)")
    }
}
