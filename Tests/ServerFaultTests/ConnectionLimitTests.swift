import Batch
import ConnectionPool
import Foundation
import Jobs
import MemoryStore
import Postgres
import Settings
import Testing

/// A server with every connection slot taken: the batch ends with a clear error naming the limit, exit 75, and
/// nothing left open; once a slot frees up, the same pool works and its leak check reaches the server.
@Suite struct ConnectionLimitTests {
    @Test func aServerAtMaxConnectionsIsAClearFailureWithoutLeaks() async throws {
        try await ScratchCluster.with("limit") { cluster in try await atTheLimit(cluster) }
    }

    private func atTheLimit(_ cluster: ScratchCluster) async throws {
        let setup = try await cluster.admin()
        // pg-local.conf sets 300; ALTER SYSTEM (postgresql.auto.conf) is read after it and wins.
        try await setup.execute(script: "ALTER SYSTEM SET max_connections = 6")
        setup.close()
        try await cluster.restart()
        // The superuser may use the reserved slots too, so six connections fill the server.
        var holders: [PostgresConnection] = []
        for _ in 0..<6 { holders.append(try await cluster.admin()) }
        defer { for holder in holders { holder.close() } }
        let refused = await #expect(throws: PostgresConnectionError.self) { try await cluster.admin() }
        #expect(refused?.message.contains("too many clients already") == true, "\(refused?.message ?? "")")
        #expect(refused?.message.contains("max_connections") == true)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-limit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let jobFile = folder.appendingPathComponent("jobs.yaml").path
        try "name: q\nkind: query\nuser: u\nqueries: [hello]\n".write(
            toFile: jobFile, atomically: true, encoding: .utf8)
        let settings = try SettingsLoader.load(configPath: nil, environment: ["DATABASE_URL": cluster.url])
        var options = BatchRunner.Options()
        options.store = MemoryStore(schema: "limit")
        options.retry = RetryPolicy(attempts: 2, initialDelay: .milliseconds(10), maximumDelay: .milliseconds(20))
        let manager = GlobalConnectionManager()
        // The limit shows where the batch first needs a connection: preparing the store, so no job starts.
        let refusedReport = await BatchRunner(settings: settings, options: options, manager: manager)
            .run(try JobLoader.load(files: [jobFile]))
        #expect(refusedReport.batch.status == .unreachable)
        #expect(refusedReport.jobs[0].status == .notStarted)
        let reason = refusedReport.batch.failure?.reason ?? ""
        #expect(reason.contains("max_connections"), "\(reason)")
        #expect(refusedReport.batch.failure?.sqlState == "53300")
        #expect(refusedReport.exitStatus(failOnLeak: true).rawValue == 75)
        #expect(manager.leakReport().outstandingLeases.isEmpty)
        #expect(manager.leakReport().openPools.isEmpty)

        // With one slot free the same settings work: the failure left nothing behind that blocks a retry.
        holders.removeLast().close()
        let report = await BatchRunner(settings: settings, options: options, manager: manager)
            .run(try JobLoader.load(files: [jobFile]))
        #expect(report.jobs[0].status == .ok, "\(report.jobs[0].error ?? "")")
        #expect(report.leaks.ok)
    }
}
