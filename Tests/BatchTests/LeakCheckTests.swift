import Batch
import Foundation
import Jobs
import MemoryStore
import Postgres
import Testing

@testable import ConnectionPool

/// The server's side of the leak check really asks the server: a backend the batch's pool is told it opened, and that
/// outlives the pool, fails the check, exit 3, by its process id; the manager's side stays clean meanwhile, and the
/// connections' side sees that one connection still open.
@Suite struct LeakCheckTests {
    @Test func aBackendLeftOnTheServerFailsTheCheckByItsPID() async throws {
        let fixture = try BatchFixture("server-leak")
        let settings = try fixture.settings(poolSize: 1, maxOverflow: 1)
        defer { fixture.remove(settings) }
        try fixture.write("data.jsonl", BatchRunnerTests.aliceAndBob)
        let file = try fixture.write("jobs.yaml", "name: load\nkind: ingest\nsource: data.jsonl\nconcurrency: 1\n")
        let store = MemoryStore(schema: fixture.schema)
        let admin = try await PostgresConnection.connect(settings.connection)
        defer { admin.close() }
        _ = try await store.migrate(on: admin)
        // The job's insert waits on this lock, so the job is still running when the stray backend is recorded.
        let locker = try await PostgresConnection.connect(settings.connection)
        defer { locker.close() }
        try await locker.execute(script: "BEGIN; LOCK TABLE \(fixture.schema).messages IN EXCLUSIVE MODE")
        // A backend under the pool's application name that the pool will never close: what a pool that lost track
        // of a connection would leave on the server.
        let stray = try await PostgresConnection.connect(settings.connection)
        defer { stray.close() }

        let manager = GlobalConnectionManager()
        var options = BatchRunner.Options()
        options.store = store
        options.progress = { progress in
            guard case .started = progress else { return }
            let reference = manager.pool(for: settings.connection, settings: settings.pool, holder: "leak test")
            reference.pool.recordOpened(stray)
            Task {
                await manager.release(reference)
                try await locker.execute(script: "COMMIT")
            }
        }
        let report = await BatchRunner(settings: settings, options: options, manager: manager)
            .run(try JobLoader.load(files: [file]))

        #expect(report.jobs.map(\.status) == [.ok], "\(report.jobs.map { $0.error ?? "" })")
        #expect(report.leaks.outstandingLeases.isEmpty && report.leaks.activeReferences.isEmpty)
        #expect(report.leaks.openPools.isEmpty)
        let opened = try #require(report.pools.values.first).connectionsNum
        #expect(report.leaks.serverBackendsChecked == opened + 1)
        #expect(report.leaks.serverBackendsLeft == [stray.backendPID])
        #expect(report.leaks.serverConnectionsLeft == 1)
        #expect(report.leaks.clientConnectionsChecked == opened + 1 && report.leaks.clientConnectionsOpen == 1)
        #expect(report.leaks.throughPooler == false)
        #expect(!report.leaks.ok)
        #expect(report.exitStatus(failOnLeak: true).rawValue == 3)
        #expect(report.exitStatus(failOnLeak: false).rawValue == 0)
        let table = report.table()
        #expect(table.contains("LEAK:") && table.contains("1 left (pid \(stray.backendPID))"), "\(table)")
        #expect(try report.json().contains("\"server_backends_left\" : [\n      \(stray.backendPID)\n    ]"))
    }
}
