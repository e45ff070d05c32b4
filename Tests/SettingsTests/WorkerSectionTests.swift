import Foundation
import Testing

@testable import Settings

/// The `worker:` section is read, validated and typed like every other section (its invalid values are among
/// `InvalidValue.all`).
@Suite struct WorkerSectionTests {
    @Test func defaultsAreTheTablesAndEveryKeyIsListed() throws {
        let (settings, _) = try load()
        #expect(settings.worker.concurrency == 4)
        #expect(settings.worker.parallelJobs == 4)
        #expect(settings.worker.storeSchema == "memory")
        #expect(settings.worker.textSearchConfig == "english")
        #expect(settings.worker.shutdownGrace == .seconds(30))
        #expect(settings.worker.retryAttempts == 6)
        #expect(settings.worker.retryInitialDelay == .milliseconds(200))
        #expect(settings.worker.retryMaxDelay == .seconds(5))
        #expect(settings.worker.queryMaxChars == 1000)
        #expect(settings.worker.queryMaxWords == 64)
        #expect(settings.worker.queryTimeout == .seconds(30))
        #expect(settings.worker.ingestTimeout == .seconds(300))
        #expect(settings.worker.bm25K1 == 1.2)
        #expect(settings.worker.bm25B == 0.75)
        #expect(settings.worker.metricsFile == nil)
        let workerEntries = settings.entries.filter { $0.key.hasPrefix("worker.") }
        #expect(workerEntries.map(\.key) == SettingKey.workerKeys.map(\.shownName))
        // Every key has a default but the metrics file, which is written only when named.
        #expect(
            workerEntries.allSatisfy { $0.source == .default && ($0.value != nil) == ($0.key != "worker.metrics_file") }
        )
    }

    @Test func theMetricsFileIsReadFromEitherSourceAndEmptyMeansNone() throws {
        let (fromFile, _) = try load("worker:\n  metrics_file: /var/lib/node_exporter/worker.prom\n")
        #expect(fromFile.worker.metricsFile == "/var/lib/node_exporter/worker.prom")
        let (fromEnvironment, _) = try load(
            "worker:\n  metrics_file: a.prom\n", environment: ["WORKER_METRICS_FILE": "b.prom"])
        #expect(fromEnvironment.worker.metricsFile == "b.prom")
        let (empty, _) = try load("worker:\n  metrics_file: ''\n")
        #expect(empty.worker.metricsFile == nil)
    }

    @Test func zeroSecondsMeanWhatTheTableSays() throws {
        let (settings, _) = try load(environment: ["WORKER_QUERY_TIMEOUT": "0", "WORKER_SHUTDOWN_GRACE": "0.5"])
        #expect(settings.worker.queryTimeout == .zero)
        #expect(settings.entry("worker.query_timeout")?.note == "the server's statement_timeout applies")
        #expect(settings.worker.shutdownGrace == .milliseconds(500))
        #expect(settings.entry("worker.shutdown_grace")?.value == "0.5")
    }

    @Test func bm25ConstantsAreReadAsNumbers() throws {
        let (settings, _) = try load("worker:\n  bm25_k1: 0.9\n", environment: ["WORKER_BM25_B": "0"])
        #expect(settings.worker.bm25K1 == 0.9)
        #expect(settings.worker.bm25B == 0)
        #expect(settings.entry("worker.bm25_k1")?.value == "0.9")
        #expect(settings.entry("worker.bm25_b")?.value == "0")
    }

    @Test func aMisspeltWorkerKeyIsWarnedWithTheClosestName() throws {
        let (settings, path) = try load(
            "worker:\n  concurency: 2\n  retry:\n    attemps: 3\nconcurrency: 5\nretry: {attempts: 3}\n")
        let file = path ?? ""
        #expect(
            settings.warnings == [
                "\(file):2: unknown key 'concurency' in worker; did you mean 'concurrency'?",
                "\(file):4: unknown key 'attemps' in worker.retry; did you mean 'attempts'?",
                "\(file):5: unknown key 'concurrency' at the top level; did you mean 'worker.concurrency'?",
                "\(file):6: unknown key 'retry' at the top level; did you mean 'worker.retry'?",
            ])
        // Misspelt keys are not read: the defaults apply.
        #expect(settings.worker.concurrency == 4)
        #expect(settings.worker.retryAttempts == 6)
    }

    @Test func aWorkerSectionThatIsNotAMappingIsAnError() throws {
        let (error, path) = try loadError("postgres:\n  pool_size: 2\nworker: 7\n")
        #expect(
            error.description
                == "\(path ?? ""):3: worker must be a mapping of keys such as concurrency:, parallel_jobs:, "
                + "store_schema:")
        #expect(error.problems.first?.source == .file(path: path ?? "", line: 3))
    }

    @Test func aRetrySectionThatIsNotAMappingIsAnError() throws {
        let (error, path) = try loadError("worker:\n  concurrency: 2\n  retry: 5\n")
        #expect(
            error.description
                == "\(path ?? ""):3: worker.retry must be a mapping of keys such as attempts:, initial_delay:, "
                + "max_delay:")
    }

    @Test func aWorkerKeyWithKeysUnderItIsAnError() throws {
        let (error, path) = try loadError("worker:\n  concurrency:\n    tasks: 2\n")
        #expect(error.description == "\(path ?? ""):2: worker.concurrency takes a single value, not a mapping")
    }
}
