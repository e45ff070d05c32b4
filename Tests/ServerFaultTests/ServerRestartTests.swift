import Batch
import Foundation
import Jobs
import MemoryStore
import Postgres
import Settings
import Support
import Testing

/// The server goes away mid-batch, on a cluster of the test's own: a restart is survived by retries with every
/// message stored once; a server that stays down fails the job as unavailable (exit 75) with nothing left open, and a
/// re-run once it is back stores the rest, once.
@Suite struct ServerRestartTests {
    static let users = 8
    static let perUser = 300

    /// A job file, its data and settings in a fresh folder, against `cluster`.
    struct Batch {
        let folder: URL
        let jobFile: String
        let settings: WorkerSettings

        init(_ cluster: ScratchCluster, name: String) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-\(name)-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var lines = ""
            for user in 0..<ServerRestartTests.users {
                for index in 0..<ServerRestartTests.perUser {
                    lines += "{\"user\": \"u\(user)\", \"session\": \"s\(index / 25)\", \"role\": \"user\", "
                    lines += "\"content\": \"note \(index) on topic \(index % 9)\"}\n"
                }
            }
            try lines.write(to: folder.appendingPathComponent("data.jsonl"), atomically: true, encoding: .utf8)
            jobFile = folder.appendingPathComponent("jobs.yaml").path
            try "name: load\nkind: ingest\nsource: data.jsonl\nbatch_size: 20\nconcurrency: 4\n"
                .write(toFile: jobFile, atomically: true, encoding: .utf8)
            let config = folder.appendingPathComponent("config.yaml").path
            try "postgres:\n  application_name: mw-restart\n  pool_size: 2\n  max_overflow: 2\n"
                .write(toFile: config, atomically: true, encoding: .utf8)
            settings = try SettingsLoader.load(configPath: config, environment: ["DATABASE_URL": cluster.url])
        }

        func runner(retry: RetryPolicy, onStart: @escaping @Sendable () -> Void) -> BatchRunner {
            var options = BatchRunner.Options()
            options.store = MemoryStore(schema: "restart")
            options.retry = retry
            options.progress = { progress in
                if case .started = progress { onStart() }
            }
            return BatchRunner(settings: settings, options: options, manager: .init())
        }
    }

    /// Stored messages, and messages counted in chunks (each message belongs to exactly one chunk).
    static func counts(_ cluster: ScratchCluster) async throws -> (messages: Int, inChunks: Int, distinct: Int) {
        let admin = try await cluster.admin()
        defer { admin.close() }
        let row = try await admin.query(
            """
            SELECT (SELECT count(*) FROM restart.messages),
                   (SELECT coalesce(sum(message_count), 0) FROM restart.chunks),
                   (SELECT count(DISTINCT (user_id, session_id, position, content_hash)) FROM restart.messages)
            """
        ).rows[0]
        return try row.decode((Int, Int, Int).self)
    }

    /// Waits (bounded) until the job has stored some messages, so the fault lands mid-job.
    static func waitForProgress(_ cluster: ScratchCluster, started: Locked<Bool>) async throws {
        let admin = try await cluster.admin()
        defer { admin.close() }
        for _ in 0..<2_000 {
            if started.withLock({ $0 }) {
                let stored = try await admin.query(
                    "SELECT count(*) FROM restart.messages"
                ).rows[0].decode(0, as: Int.self)
                if stored >= 200 { return }
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("the job never got going")
    }

    @Test func aRestartMidBatchIsRetriedAndEveryMessageLandsOnce() async throws {
        try await ScratchCluster.with("restart") { cluster in
            let batch = try Batch(cluster, name: "restart")
            defer { try? FileManager.default.removeItem(at: batch.folder) }
            try await restartMidBatch(cluster, batch)
        }
    }

    private func restartMidBatch(_ cluster: ScratchCluster, _ batch: Batch) async throws {
        let started = Locked(false)
        let runner = batch.runner(
            retry: RetryPolicy(attempts: 40, initialDelay: .milliseconds(20), maximumDelay: .milliseconds(250)),
            onStart: { started.withLock { $0 = true } })
        let finished = Locked(false)
        let restarter = Task {
            try await Self.waitForProgress(cluster, started: started)
            try await cluster.restart()
            return finished.withLock { $0 }
        }
        let report = await runner.run(try JobLoader.load(files: [batch.jobFile]))
        finished.withLock { $0 = true }
        let restartedAfterTheJob = try await restarter.value
        let total = Self.users * Self.perUser
        let job = report.jobs[0]
        #expect(!restartedAfterTheJob, "the restart came too late to test anything")
        #expect(job.status == .ok, "\(job.error ?? "")")
        #expect(job.retries > 0, "the restart cut no unit short")
        #expect((job.inserted ?? 0) + (job.duplicates ?? 0) == total)
        let counts = try await Self.counts(cluster)
        #expect(counts.messages == total && counts.distinct == total && counts.inChunks == total)
        #expect(report.exitStatus(failOnLeak: true).rawValue == 0)
        #expect(report.leaks.ok, "\(report.leaks)")
        print("restart mid-batch: \(job.retries) unit retries, \(job.duplicates ?? 0) already stored on retry")
    }

    @Test func aServerThatStaysDownFailsTheJobAndARerunCompletesIt() async throws {
        try await ScratchCluster.with("down") { cluster in
            let batch = try Batch(cluster, name: "down")
            defer { try? FileManager.default.removeItem(at: batch.folder) }
            try await staysDown(cluster, batch)
        }
    }

    private func staysDown(_ cluster: ScratchCluster, _ batch: Batch) async throws {
        let started = Locked(false)
        let retry = RetryPolicy(attempts: 3, initialDelay: .milliseconds(20), maximumDelay: .milliseconds(40))
        let runner = batch.runner(retry: retry, onStart: { started.withLock { $0 = true } })
        let stopper = Task {
            try await Self.waitForProgress(cluster, started: started)
            try await cluster.stop()
        }
        let report = await runner.run(try JobLoader.load(files: [batch.jobFile]))
        try await stopper.value
        let job = report.jobs[0]
        #expect(job.status == .failed)
        #expect(job.databaseUnavailable)
        #expect(job.error?.contains("connection") == true, "\(job.error ?? "")")
        #expect(report.exitStatus(failOnLeak: true).rawValue == 75)
        #expect(report.leaks.outstandingLeases.isEmpty && report.leaks.openPools.isEmpty)
        #expect(report.pools.values.allSatisfy { $0.poolClosed })

        try await cluster.start()
        let rerun = await batch.runner(retry: retry, onStart: {}).run(try JobLoader.load(files: [batch.jobFile]))
        let total = Self.users * Self.perUser
        #expect(rerun.jobs[0].status == .ok, "\(rerun.jobs[0].error ?? "")")
        #expect((rerun.jobs[0].duplicates ?? 0) > 0, "the first run stored nothing before the server went")
        let counts = try await Self.counts(cluster)
        #expect(counts.messages == total && counts.distinct == total && counts.inChunks == total)
        #expect(rerun.leaks.ok)
    }
}
