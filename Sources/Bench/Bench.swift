import Foundation
import Postgres

/// `make bench`: measures the pool, the worker's ingest and query jobs, its memory and the job queue's overhead, each
/// next to what pgbench or psql do with the same statements and rows on the same database in the same run, and prints
/// a table and writes JSON. Timings are reported against their targets, never asserted: the exit status says only whether every
/// measurement could be taken (0), some could not (1), or the bench could not start (2).
///
/// Run by scripts/bench, which builds the release binaries and points `DATABASE_URL` at the private cluster.
@main
struct Bench {
    static func main() async {
        do {
            let options = try BenchOptions(CommandLine.arguments.dropFirst())
            let status = try await BenchRun(options: options).run()
            exit(status)
        } catch {
            FileHandle.standardError.write(Data("bench: \(error)\n".utf8))
            exit(2)
        }
    }
}

/// `Bench [--only ITEM,...] [--output-dir DIR] [--keep]`.
struct BenchOptions: Sendable {
    static let items = ["pool", "scaling", "nonblocking", "ingest", "query", "memory", "retrieval", "queue"]

    var only = Set(items)
    var outputDirectory = "bench-results"
    /// Keep the temporary files and the bench's schemas, for looking into a surprising number.
    var keep = false

    init(_ arguments: ArraySlice<String>) throws {
        var rest = arguments
        while let argument = rest.popFirst() {
            switch argument {
            case "--only":
                let names = (rest.popFirst() ?? "").split(separator: ",").map(String.init)
                guard !names.isEmpty, names.allSatisfy(Self.items.contains) else {
                    throw BenchError("--only takes a comma-separated list of: \(Self.items.joined(separator: ", "))")
                }
                only = Set(names)
            case "--output-dir":
                guard let directory = rest.popFirst() else { throw BenchError("--output-dir needs a directory") }
                outputDirectory = directory
            case "--keep":
                keep = true
            default:
                throw BenchError(
                    "unknown argument \(argument); usage: Bench [--only \(Self.items.joined(separator: ","))] "
                        + "[--output-dir DIR] [--keep]")
            }
        }
    }
}

/// One run of the suite, item by item; an item that fails is reported and the others still run.
struct BenchRun {
    let options: BenchOptions
    let started = Date()
    let clock = ContinuousClock.now

    func run() async throws -> Int32 {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw BenchError("DATABASE_URL is not set (scripts/bench sets it to the private cluster)")
        }
        var configuration = try ConnectionConfiguration(url)
        configuration["application_name"] = "memory-worker-bench"
        let stamp = Self.stamp(started)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memory-worker-bench-\(stamp)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tools = try PostgresTools.locate(databaseURL: url, logDirectory: directory)
        let admin = try await AdminConnection.open(configuration)
        defer { admin.close() }

        var report = BenchReport(startedAt: started)
        report.machine = MachineInfo.collect(
            postgres: try await admin.text("SELECT version()"),
            pgbench: try await tools.pgbenchVersion(),
            database: configuration.maskedURL)

        let pools = PoolSections(bench: PoolBench(configuration: configuration), tools: tools, directory: directory)
        await attempt("pool", &report) { $0.poolRoundTrip = try await pools.roundTrip() }
        await attempt("scaling", &report) { $0.scaling = try await pools.scaling() }
        await attempt("nonblocking", &report) { $0.nonBlocking = try await pools.nonBlocking() }

        // The query and memory items read the store the 200,000-message ingest fills, so any of the three runs it.
        var store: StoreSections?
        if !options.only.isDisjoint(with: ["ingest", "query", "memory"]) {
            await attempt("ingest", &report, always: true) { report in
                progress("generating the input files")
                let sections = StoreSections(
                    worker: try WorkerRunner.locate(databaseURL: url, directory: directory), tools: tools,
                    admin: admin, inputs: try StoreInputs.generate(in: directory), schema: "bench_" + stamp)
                store = sections
                report.ingest = try await sections.ingest()
            }
        }
        if let store, let ingest = report.ingest {
            await attempt("query", &report) { $0.query = try await store.query() }
            await attempt("memory", &report) { $0.memory = try await store.memory(large: ingest.worker) }
        } else {
            for item in ["query", "memory"] where options.only.contains(item) {
                report.errors[item] = "not run: it needs the 200,000-message ingest, which failed"
            }
        }
        if let store, !options.keep {
            await attempt("cleanup", &report, always: true) { _ in try await admin.dropSchemas(store.schemas) }
        }
        var retrievalSchemas: [String] = []
        await attempt("retrieval", &report) { report in
            let retrieval = RetrievalSection(
                worker: try WorkerRunner.locate(databaseURL: url, directory: directory), admin: admin,
                configuration: configuration, directory: directory, schema: "bench_\(stamp)_retrieval")
            retrievalSchemas = retrieval.schemas
            report.retrieval = try await retrieval.run()
        }
        if !retrievalSchemas.isEmpty, !options.keep {
            await attempt("cleanup", &report, always: true) { _ in try await admin.dropSchemas(retrievalSchemas) }
        }
        let queueSchema = "bench_\(stamp)_queue"
        var queueRan = false
        await attempt("queue", &report) { report in
            let queue = QueueSection(
                worker: try WorkerRunner.locate(databaseURL: url, directory: directory), tools: tools, admin: admin,
                schema: queueSchema)
            queueRan = true
            report.queue = try await queue.run()
        }
        if queueRan, !options.keep {
            await attempt("cleanup", &report, always: true) { _ in try await admin.dropSchemas([queueSchema]) }
        }
        if !options.keep { try? FileManager.default.removeItem(at: directory) }

        report.skipped = BenchOptions.items.filter { item in
            !options.only.contains(item) && !(item == "ingest" && report.ingest != nil)
        }
        report.loadAverageAtEnd = MachineInfo.loadAverage()
        report.finishedAt = Date()
        report.durationS = seconds(since: clock)
        let jsonPath = try write(report, stamp: stamp)
        print(BenchTable(report: report, jsonPath: jsonPath).render())
        if options.keep { progress("kept \(directory.path) and the schemas bench_\(stamp)*") }
        return report.errors.isEmpty ? 0 : 1
    }

    /// Runs one item if it was asked for, recording its error instead of ending the run.
    private func attempt(
        _ item: String,
        _ report: inout BenchReport,
        always: Bool = false,
        _ body: (inout BenchReport) async throws -> Void
    ) async {
        guard always || options.only.contains(item) else { return }
        let started = ContinuousClock.now
        progress("\(item)…")
        do {
            try await body(&report)
            progress("\(item) done in " + String(format: "%.1f s", seconds(since: started)))
        } catch {
            report.errors[item] = "\(error)"
            progress("\(item) FAILED: \(error)")
        }
    }

    private func write(_ report: BenchReport, stamp: String) throws -> String {
        let directory = URL(fileURLWithPath: options.outputDirectory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("bench-\(stamp).json")
        try report.json().write(to: url)
        return options.outputDirectory + "/bench-\(stamp).json"
    }

    /// `20251128_143000` in UTC: file names and schema names (lower-case identifiers) alike.
    private static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd_HHmmss"
        return formatter.string(from: date)
    }
}

/// A progress line on stderr, so stdout holds only the table.
func progress(_ message: String) {
    FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
}
