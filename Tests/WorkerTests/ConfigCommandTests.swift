import Batch
import Foundation
import Jobs
import Settings
import Testing

@testable import MemoryStore
@testable import Worker

/// `worker config` shows every key, the `worker:` section included, and every command that reads the settings checks
/// all of them the same way.
@Suite struct ConfigCommandTests {
    static let environment = SettingsExitTests.cleanDatabaseEnvironment.merging([
        "WORKER_CONCURRENCY": nil, "WORKER_PARALLEL_JOBS": nil, "WORKER_RETRY_ATTEMPTS": nil,
    ]) { _, new in new }

    /// A folder holding `config.yaml` with `yaml`, removed when the test is done with it.
    static func folder(config yaml: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try yaml.write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func configListsEveryKeyWithItsSource() async throws {
        let folder = try Self.folder(config: "worker:\n  retry:\n    attempts: 3\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try await WorkerProcess.run(
            ["config"], environment: Self.environment.merging(["WORKER_CONCURRENCY": "7"]) { _, new in new },
            directory: folder)
        #expect(output.status == 0, "\(output.stderr)")
        let rows = output.stdoutLines.filter { !$0.hasPrefix("#") }
        let keys = rows.compactMap { $0.split(separator: " ").first.map(String.init) }
        for key in [
            "url", "host", "pool_size", "leak_threshold", "worker.concurrency", "worker.parallel_jobs",
            "worker.store_schema", "worker.text_search_config", "worker.shutdown_grace", "worker.retry.attempts",
            "worker.retry.initial_delay", "worker.retry.max_delay", "worker.query_max_chars", "worker.query_max_words",
            "worker.query_timeout", "worker.ingest_timeout", "worker.bm25_k1", "worker.bm25_b",
        ] {
            #expect(keys.contains(key), "\(key) missing from:\n\(output.stdout)")
        }
        let concurrency = try #require(rows.first { $0.hasPrefix("worker.concurrency ") })
        #expect(concurrency.contains("= 7 ") && concurrency.hasSuffix("(env WORKER_CONCURRENCY)"), "\(concurrency)")
        let attempts = try #require(rows.first { $0.hasPrefix("worker.retry.attempts ") })
        #expect(attempts.contains("= 3 ") && attempts.hasSuffix("(config.yaml:3)"), "\(attempts)")
        let schema = try #require(rows.first { $0.hasPrefix("worker.store_schema ") })
        #expect(schema.contains("= memory ") && schema.hasSuffix("(default)"), "\(schema)")
    }

    @Test func aMisspeltWorkerKeyIsWarnedWithTheClosestName() async throws {
        let folder = try Self.folder(config: "worker:\n  concurency: 2\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try await WorkerProcess.run(["config"], environment: Self.environment, directory: folder)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(
            output.stderr.contains(
                "worker: warning: config.yaml:2: unknown key 'concurency' in worker; did you mean 'concurrency'?"),
            "\(output.stderr)")
    }

    @Test(arguments: [["config"], ["config", "--json"], ["validate"], ["run"], ["migrate"]])
    func anInvalidWorkerVariableExitsTwoNamingIt(arguments: [String]) async throws {
        let output = try await WorkerProcess.run(
            arguments, environment: Self.environment.merging(["WORKER_CONCURRENCY": "abc"]) { _, new in new })
        #expect(output.status == 2, "\(output.stderr)")
        #expect(
            output.stderr.contains(
                "env WORKER_CONCURRENCY: invalid value 'abc' for worker.concurrency; expected a whole number of at "
                    + "least 1"),
            "\(output.stderr)")
        #expect(output.stdout.isEmpty, "\(output.stdout)")
    }

    @Test(arguments: [
        ("worker: 7\n", "config.yaml:1: worker must be a mapping of keys such as concurrency:"),
        ("worker:\n  retry: 5\n", "config.yaml:2: worker.retry must be a mapping of keys such as attempts:"),
    ])
    func aWorkerSectionOfTheWrongShapeExitsTwoAtItsLine(yaml: String, message: String) async throws {
        let folder = try Self.folder(config: yaml)
        defer { try? FileManager.default.removeItem(at: folder) }
        for arguments in [["config"], ["validate"]] {
            let output = try await WorkerProcess.run(arguments, environment: Self.environment, directory: folder)
            #expect(output.status == 2, "\(arguments): \(output.stderr)")
            #expect(output.stderr.contains(message), "\(arguments): \(output.stderr)")
        }
    }

    @Test func jsonKeysAreSnakeCase() async throws {
        let folder = try Self.folder(config: "worker:\n  concurency: 2\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try await WorkerProcess.run(
            ["config", "--json"], environment: Self.environment, directory: folder)
        #expect(output.status == 0, "\(output.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        #expect(object["config_file"] as? String == "config.yaml")
        #expect((object["warnings"] as? [String])?.first?.contains("did you mean 'concurrency'") == true)
        #expect(object["database_configured"] as? Bool == false)
        let settings = try #require(object["settings"] as? [[String: Any]])
        let concurrency = try #require(settings.first { $0["key"] as? String == "worker.concurrency" })
        #expect(concurrency["value"] as? String == "4")
        #expect(concurrency["source"] as? String == "default")
        #expect(concurrency["doc"] as? String == "tasks per job, for jobs that set no concurrency")
        var names: [String] = []
        Self.collectKeys(object, into: &names)
        #expect(!names.isEmpty)
        for name in names {
            #expect(name.allSatisfy { $0.isLowercase || $0 == "_" }, "\(name) is not snake_case")
        }
    }

    static func collectKeys(_ value: Any, into names: inout [String]) {
        if let object = value as? [String: Any] {
            for (key, child) in object {
                names.append(key)
                collectKeys(child, into: &names)
            }
        } else if let array = value as? [Any] {
            for child in array { collectKeys(child, into: &names) }
        }
    }

    /// One `--config` for every command that reads the settings: each names the option when its file is missing.
    @Test(arguments: [
        ["config"], ["validate"], ["run"], ["migrate"], ["ping"], ["monitor"], ["doctor"],
    ])
    func everySettingsCommandTakesConfig(arguments: [String]) async throws {
        let missing = "/nonexistent-\(UUID().uuidString)/config.yaml"
        let output = try await WorkerProcess.run(arguments + ["--config", missing], environment: Self.environment)
        #expect(output.status == 2, "\(output.stderr)")
        #expect(output.stderr.contains("\(missing): no such config file (named by --config)"), "\(output.stderr)")
    }

    /// The typed `worker:` values become the modules' own types unchanged, and the table's defaults are the modules'.
    @Test func theWorkerSectionMapsOntoTheModulesTypes() throws {
        // An empty file, so the working directory's config.yaml plays no part.
        let folder = try Self.folder(config: "")
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("config.yaml").path
        let defaults = try SettingsLoader.load(configPath: empty, environment: [:]).worker
        #expect(defaults.retryPolicy == RetryPolicy())
        #expect(defaults.queryLimits == QueryLimits())
        #expect(defaults.memoryStore.timeouts == StatementTimeouts())
        #expect(defaults.memoryStore.schema == MemoryStore().schema)
        #expect(defaults.memoryStore.textSearchConfig == MemoryStore().textSearchConfig)
        let set = try SettingsLoader.load(
            configPath: empty,
            environment: [
                "WORKER_RETRY_ATTEMPTS": "2", "WORKER_RETRY_INITIAL_DELAY": "0.05", "WORKER_RETRY_MAX_DELAY": "1.5",
                "WORKER_QUERY_MAX_CHARS": "10", "WORKER_QUERY_MAX_WORDS": "3", "WORKER_QUERY_TIMEOUT": "0",
                "WORKER_INGEST_TIMEOUT": "12.5", "WORKER_STORE_SCHEMA": "other", "WORKER_TEXT_SEARCH_CONFIG": "simple",
            ]
        ).worker
        #expect(
            set.retryPolicy == RetryPolicy(attempts: 2, initialDelay: .milliseconds(50), maximumDelay: .seconds(1.5)))
        #expect(set.queryLimits == QueryLimits(maxCharacters: 10, maxWords: 3))
        #expect(set.memoryStore.timeouts == StatementTimeouts(query: .zero, ingest: .milliseconds(12_500)))
        #expect(set.memoryStore.schema == "other" && set.memoryStore.textSearchConfig == "simple")
    }
}
