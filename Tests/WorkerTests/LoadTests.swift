import ConnectionPool
import Foundation
import Postgres
import Support
import Testing

/// One unattended batch of 500 jobs through the real `worker`: every job completes, the server never sees more
/// connections than the pool's max_size, memory stays bounded, and nothing leaks.
@Suite struct LoadTests {
    static let ingestJobs = 100
    static let queryJobs = 400

    @Test func fiveHundredJobsAtParallelThirtyTwoStayWithinMaxSize() async throws {
        let suffix = UInt32.random(in: 0...UInt32.max)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-load-\(suffix)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let applicationName = "mw-load-\(suffix)"
        let schema = "load_\(suffix)"
        let database = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
        let admin = try await PostgresConnection.connect(try ConnectionConfiguration(database))
        defer {
            try? FileManager.default.removeItem(at: folder)
            Task {
                try? await admin.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE")
                admin.close()
            }
        }
        func write(_ name: String, _ text: String) throws {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write(
            "config.yaml",
            """
            postgres:
              application_name: \(applicationName)
              pool_size: 2
              max_overflow: 8
            worker:
              store_schema: \(schema)
            """
        )
        var jobs = "jobs:\n"
        for user in 0..<Self.ingestJobs {
            var lines = ""
            for index in 0..<10 {
                lines += "{\"user\": \"u\(user)\", \"session\": \"s\(index / 5)\", \"role\": \"user\", "
                lines += "\"content\": \"note \(index) about topic \(index % 3) for u\(user)\"}\n"
            }
            try write("u\(user).jsonl", lines)
            jobs += "  - {name: in\(user), kind: ingest, source: u\(user).jsonl, concurrency: 2}\n"
        }
        for query in 0..<Self.queryJobs {
            let user = query % Self.ingestJobs
            jobs +=
                "  - {name: q\(query), kind: query, user: u\(user), queries: [topic, note], depends_on: in\(user)}\n"
        }
        try write("jobs.yaml", jobs)

        let counting = try ConnectionConfiguration(database)
        let finished = Locked(false)
        let poller = Task {
            var peak = 0
            while !finished.withLock({ $0 }) {
                let count = try await ServerConnectionCount.count(
                    applicationName: applicationName, configuration: counting)
                peak = max(peak, count)
                try await Task.sleep(for: .milliseconds(10))
            }
            return peak
        }
        let output = try await WorkerProcess.run(
            ["jobs.yaml", "--parallel-jobs", "32", "--report", "json", "--quiet"],
            directory: folder, timeout: .seconds(600))
        finished.withLock { $0 = true }
        let serverPeak = try await poller.value

        #expect(output.status == 0, "\(output.stderr.suffix(2_000))")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        let batch = try #require(report["batch"] as? [String: Any])
        #expect(batch["jobs_ok"] as? Int == Self.ingestJobs + Self.queryJobs)
        let pools = try #require(report["pools"] as? [String: [String: Any]])
        #expect(pools.count == 1)
        #expect(pools.values.allSatisfy { ($0["peak_leased"] as? Int ?? 99) <= 10 })
        #expect(serverPeak <= 10, "the server saw \(serverPeak) connections")
        let leaks = try #require(report["leaks"] as? [String: Any])
        #expect(leaks["ok"] as? Bool == true)
        let peakRSS = try #require(batch["peak_rss_mb"] as? Double)
        #expect(peakRSS < 150, "peak RSS \(peakRSS) MB")
        print(
            "500 jobs: server peak \(serverPeak) connections, peak RSS \(peakRSS) MB, \(batch["duration_s"] ?? "?") s")
    }
}
