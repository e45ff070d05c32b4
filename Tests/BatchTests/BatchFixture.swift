import Batch
import ConnectionPool
import Foundation
import MemoryStore
import Postgres
import Settings
import Testing

/// A batch in a temporary folder, against the private test cluster, in a schema and under an application name of
/// its own, so batches of parallel tests never see each other.
struct BatchFixture {
    let folder: URL
    let schema: String
    let applicationName: String

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String { "DATABASE_URL is not set: run the tests with 'make test', which starts the cluster" }
    }

    init(_ name: String) throws {
        let suffix = UInt32.random(in: 0...UInt32.max)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-batch-\(name)-\(suffix)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        schema = "batch_\(name.replacingOccurrences(of: "-", with: "_"))_\(suffix)"
        applicationName = "mw-batch-\(name)-\(suffix)"
    }

    /// Writes `text` to `name` in the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Settings from a config file of the fixture's own: the test cluster, the given pool sizes.
    func settings(poolSize: Int = 1, maxOverflow: Int = 3, poolTimeout: Double = 30) throws -> WorkerSettings {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        let config = try write(
            "config.yaml",
            """
            postgres:
              application_name: \(applicationName)
              pool_size: \(poolSize)
              max_overflow: \(maxOverflow)
              pool_timeout: \(poolTimeout)
            """
        )
        return try SettingsLoader.load(configPath: config, environment: ["DATABASE_URL": url])
    }

    func runner(
        _ settings: WorkerSettings, parallelJobs: Int = 4, manager: GlobalConnectionManager = .init(),
        progress: (@Sendable (BatchRunner.Progress) -> Void)? = nil
    ) -> BatchRunner {
        var options = BatchRunner.Options()
        options.parallelJobs = parallelJobs
        options.store = MemoryStore(schema: schema)
        options.progress = progress
        return BatchRunner(settings: settings, options: options, manager: manager)
    }

    /// Removes the folder at once, and drops the schema in a task of its own: `defer` cannot wait, and a schema
    /// left behind in the private cluster when the test process ends first is harmless, unlike files in /tmp.
    func remove(_ settings: WorkerSettings) {
        try? FileManager.default.removeItem(at: folder)
        let schema = schema
        Task {
            guard let connection = try? await PostgresConnection.connect(settings.connection) else { return }
            try? await connection.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE")
            connection.close()
        }
    }
}
