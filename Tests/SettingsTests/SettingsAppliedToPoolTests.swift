import ConnectionPool
import Foundation
import Postgres
import Settings
import Support
import Testing

/// The settings reach the real pool: sizes from config.yaml and the environment bound what the server sees.
@Suite struct SettingsAppliedToPoolTests {
    @Test func sixtyFourTasksOverAConfiguredMaxSizeOfFourNeverSeeMoreThanFour() async throws {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            Issue.record("DATABASE_URL is not set: run the tests with 'make test', which starts the cluster")
            return
        }
        let applicationName = "mw-settings-applied-\(UInt32.random(in: 0...UInt32.max))"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(applicationName).yaml")
        try """
        postgres:
          pool_size: 1
          max_overflow: 9
        store:
          database:
            postgres:
              max_overflow: 3
              application_name: \(applicationName)
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let settings = try SettingsLoader.load(
            configPath: file.path,
            environment: ["DATABASE_URL": url, "POSTGRES_POOL_TIMEOUT": "20"]
        )
        #expect(settings.pool.minSize == 1)
        #expect(settings.pool.maxSize == 4)
        #expect(settings.pool.acquireTimeout == .seconds(20))
        let pool = ConnectionPool(configuration: settings.connection, settings: settings.pool)
        let finished = Locked(false)
        let peak = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                defer { finished.withLock { $0 = true } }
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for _ in 0..<64 {
                        tasks.addTask {
                            _ = try await pool.withConnection { try await $0.query("SELECT pg_sleep(0.01)") }
                        }
                    }
                    try await tasks.waitForAll()
                }
                return 0
            }
            group.addTask {
                var peak = 0
                while !finished.withLock({ $0 }) {
                    peak = max(
                        peak,
                        try await ServerConnectionCount.count(
                            applicationName: applicationName,
                            configuration: settings.connection
                        )
                    )
                    try await Task.sleep(for: .milliseconds(10))
                }
                return peak
            }
            return try await group.reduce(0, max)
        }
        #expect(peak >= 1 && peak <= 4)
        #expect(pool.statistics.peakLeased == 4)
        await pool.close()
    }
}
