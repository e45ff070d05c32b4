import ArgumentParser
import Batch
import BatchLock
import ConnectionPool
import Diagnostics
import Foundation
import Jobs
import LiveProgress
import MemoryStore
import Postgres
import Settings

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Runs the jobs in the given YAML files on the shared pool, reports, and checks for leaks.",
        discussion: """
            Exit status: 0 all jobs ok and no leak; 1 a job failed, was interrupted or skipped, or the store could not \
            be prepared for a reason retrying cannot fix; 2 invalid input or configuration (nothing ran); 3 the leak \
            check did not pass (see --no-fail-on-leak); 75 the database could not be reached, or another run of the \
            same batch holds its lock (nothing ran; cron may retry); 130 / 143 interrupted by SIGINT / SIGTERM.

            Batch lock: a run holds a lock on its batch (the same job names, in any order, or --lock-key) in the \
            store's schema while it runs, so overlapping cron runs never both do the work. A run that finds it held \
            exits 75 at once with one line on stderr naming the holder, and writes nothing else (no report, report \
            file, metrics file or output); --wait-lock waits for it first. A holder that died frees it when its \
            lease (worker.lock.lease) runs out.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "Job files (YAML).")
    var files: [String] = []

    @OptionGroup var output: ReportOutput

    @Option(
        help: ArgumentHelp(
            "Write Prometheus metrics to this file at the end of every run, for node_exporter's textfile collector "
                + "(default: worker.metrics_file).", valueName: "path"))
    var metricsFile: String?

    @Option(help: "Jobs running at the same time (default: worker.parallel_jobs, else 4).")
    var parallelJobs: Int?

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "A live line per running job on stderr (default: when stderr is a terminal, without --quiet and "
                + "--log-format json)."))
    var progress: Bool?

    @Option(
        help: ArgumentHelp(
            "The batch lock's key (default: one derived from the job names, in any order); runs with different keys "
                + "never exclude each other.", valueName: "key"))
    var lockKey: String?

    @Option(
        help: ArgumentHelp(
            "When another run holds the batch lock, wait up to this long for it (polling) before exiting 75 "
                + "(default: 0, exit at once).", valueName: "seconds"))
    var waitLock: Double?

    func run() async throws {
        logging.bootstrap(quiet: output.quiet)
        let settings = try self.settings.load()
        try requireJobFiles(files)
        let jobs = try loadJobs(files, queryLimits: settings.worker.queryLimits, configFile: settings.configFile)
        if let reportFile = output.file,
            let problem = ReportFileCheck.problem(reportFile, files: files, jobs: jobs, configFile: settings.configFile)
        {
            printError("worker: --report-file \(Quote.path(reportFile)) \(problem)")
            throw ExitCode.invalidInput
        }
        let metrics = try RunMetricsOutput(
            flag: metricsFile, setting: settings.worker.metricsFile, reportFile: output.file, files: files, jobs: jobs,
            configFile: settings.configFile, connection: settings.connection)
        var options = BatchRunner.Options()
        options.parallelJobs = parallelJobs ?? settings.worker.parallelJobs
        options.defaultConcurrency = settings.worker.concurrency
        options.store = settings.worker.memoryStore
        options.retry = settings.worker.retryPolicy
        let onTerminal = isatty(STDERR_FILENO) == 1 && !output.quiet && logging.logFormat == .text
        let live = (progress ?? onTerminal) ? LiveProgress() : nil
        options.progress = live?.observe
        let lock = BatchLock(
            key: lockKey ?? BatchLock.key(forJobs: jobs.map(\.name)), schema: settings.worker.storeSchema,
            lease: settings.worker.lockLease, wait: .seconds(waitLock ?? 0),
            holder: .thisProcess(
                applicationName: settings.connection["application_name"]
                    ?? ConnectionConfiguration.defaultApplicationName))
        let interruptible = InterruptibleRun(shutdown: options.shutdown, grace: settings.worker.shutdownGrace)
        let refresh = live.map { live in Task { await live.refresh() } }
        let outcome = await interruptible.run { [options] in
            await BatchRunner(settings: settings, options: options).run(jobs, holding: lock)
        }
        refresh?.cancel()
        await refresh?.value
        let result: BatchReport
        switch outcome {
        case .success(let report): result = report
        case .failure(let refusal):
            // The report, report file and metrics file are the holder's to write; this run did nothing.
            let wait = refusal.waited == nil ? ". --wait-lock SECONDS waits for it" : ""
            printError(settings.connection.redact("worker: \(refusal); not running\(wait)"))
            throw ExitCode.databaseUnavailable
        }
        try output.emit(result)
        // 128 + the signal, the shell's convention: 130 for SIGINT, 143 for SIGTERM.
        let exitCode =
            options.shutdown.signal.map { 128 + $0 } ?? result.exitStatus(failOnLeak: output.failOnLeak).rawValue
        metrics?.write(result, exitCode: exitCode)
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

    func validate() throws {
        if let parallelJobs, parallelJobs < 1 {
            throw ValidationError("--parallel-jobs must be at least 1, got \(parallelJobs)")
        }
        if let waitLock, !(0...Self.longestLockWait).contains(waitLock) {
            throw ValidationError(
                "--wait-lock must be a number of seconds from 0 to \(Int(Self.longestLockWait)), got \(waitLock)")
        }
        if let lockKey, lockKey.isEmpty || lockKey.utf8.count > Self.longestLockKey {
            throw ValidationError(
                "--lock-key must be 1 to \(Self.longestLockKey) bytes, got \(lockKey.utf8.count): name the batch "
                    + "briefly, e.g. --lock-key nightly-ingest")
        }
    }

    /// A day: a longer wait outlasts any cron schedule it could be meant for.
    static let longestLockWait = 86_400.0
    /// Well inside what a btree index entry (the lock table's key) holds.
    static let longestLockKey = 200
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Checks job files (types, fields, names, dependencies, sources) without running anything."
    )

    /// The settings `worker run` would use: the query limits (`worker.query_max_chars`, `worker.query_max_words`)
    /// and the config file, which no output may overwrite.
    @OptionGroup var settings: SettingsOptions

    @Argument(help: "Job files (YAML).")
    var files: [String] = []

    func run() throws {
        let settings = try self.settings.load()
        try requireJobFiles(files)
        let jobs = try loadJobs(files, queryLimits: settings.worker.queryLimits, configFile: settings.configFile)
        print("\(jobs.count) job(s) in \(files.count) file(s): valid")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Creates or upgrades the memory store's schema.",
        discussion: """
            Exit status: 0 done; 1 a failure retrying cannot fix (e.g. a missing privilege); 2 invalid input or \
            configuration (including refused credentials and a text search configuration the store was not made \
            with); 75 the database could not be reached.
            """
    )

    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        let settings = try self.settings.load()
        let store = settings.worker.memoryStore
        let manager = GlobalConnectionManager.shared
        let reference = manager.pool(for: settings.connection, settings: settings.pool, holder: "migrate")
        do {
            let applied = try await reference.pool.withConnection(holder: "migrate") { connection in
                try await store.migrate(on: connection)
            }
            await manager.release(reference)
            print("memory store at \(reference.pool.target): \(applied)")
        } catch {
            await manager.release(reference)
            let diagnosis = FailureDiagnosis(error)
            printError("worker: cannot migrate the memory store at \(reference.pool.target): \(diagnosis.summary)")
            throw ExitCode(diagnosis.kind.exitStatus)
        }
    }
}

/// Ends the program with exit code 2 when no job file is named: for `run` and `validate`, an empty batch would still
/// connect and prepare the store, and a cron line whose glob matched nothing would pass for a batch that ran.
/// (`eval` may measure a store filled earlier, with no job to run first.)
func requireJobFiles(_ files: [String]) throws {
    guard files.isEmpty else { return }
    printError("worker: no job files given: name one or more YAML job files, e.g. `worker run jobs/*.yaml`")
    throw ExitCode.invalidInput
}

/// Loads and validates every job file; any problem ends the program with exit code 2 before anything runs.
func loadJobs(_ files: [String], queryLimits: QueryLimits, configFile: String?) throws -> [Job] {
    for unused in unusedConfigFiles(besides: files, inUse: configFile) {
        printWarning(
            "\(unused) is not the config file in use (\(configFile ?? "none: no ./config.yaml")); "
                + "pass --config \(unused) (or set WORKER_CONFIG) to use it")
    }
    do {
        return try JobLoader.load(files: files, queryLimits: queryLimits, configFile: configFile)
    } catch {
        for problem in error.problems { printError("worker: \(problem)") }
        throw ExitCode.invalidInput
    }
}

/// The `config.yaml` files beside the job files that are not the one in use: the file is found by `--config`,
/// `WORKER_CONFIG` or the current directory, never by a job file's folder, which under cron (run from the home
/// directory) easily goes unnoticed.
func unusedConfigFiles(besides files: [String], inUse configFile: String?) -> [String] {
    func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
    let used = configFile.map(canonical)
    var seen: Set<String> = []
    return files.compactMap { file in
        let candidate = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("config.yaml")
        let path = canonical(candidate.path)
        guard path != used, seen.insert(path).inserted, FileManager.default.fileExists(atPath: path) else {
            return nil
        }
        return path
    }
}
