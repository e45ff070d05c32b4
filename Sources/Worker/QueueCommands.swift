import ArgumentParser
import Batch
import ConnectionPool
import Foundation
import Jobs
import Postgres
import Queue
import Settings

struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validates job files like `run` and stores their jobs in the queue for `worker drain`, all or none.",
        discussion: """
            Exit status: 0 queued, or already queued under the same --batch name with the same jobs; 2 invalid \
            input or configuration, or --batch names a queued batch with other jobs (nothing queued); 75 the \
            database could not be reached; 1 another failure.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "Job files (YAML).")
    var files: [String] = []

    @Option(
        help: ArgumentHelp(
            "The batch's name; enqueuing the same name with the same jobs again queues nothing (default: the time, "
                + "host and pid).", valueName: "name"))
    var batch: String?

    func run() async throws {
        logging.bootstrap(quiet: false)
        let settings = try self.settings.load()
        try requireJobFiles(files)
        let jobs = try loadJobs(files, queryLimits: settings.worker.queryLimits, configFile: settings.configFile)
        let host = Queue.hostName()
        let pid = ProcessInfo.processInfo.processIdentifier
        let name = batch ?? Self.defaultName(host: host, pid: pid)
        let by = "\(host) (pid \(pid))"
        let paths = files.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let store = settings.worker.memoryStore
        let retry = settings.worker.retryPolicy
        let manager = GlobalConnectionManager.shared
        let reference = manager.pool(for: settings.connection, settings: settings.pool, holder: "enqueue")
        let result: JobQueue.Enqueued
        do {
            let queue = try JobQueue(store: store, pool: reference.pool)
            result = try await retry.run {
                try await reference.pool.withConnection(holder: "enqueue migration") {
                    _ = try await store.migrate(on: $0)
                }
                try await queue.prepare()
                return try await queue.enqueue(
                    jobs, name: name, files: paths, maxAttempts: settings.worker.queueMaxAttempts, by: by)
            }
            await manager.release(reference)
        } catch {
            await manager.release(reference)
            let diagnosis = FailureDiagnosis(error)
            printError("worker: cannot enqueue into the queue at \(reference.pool.target): \(diagnosis.summary)")
            throw ExitCode(diagnosis.kind.exitStatus)
        }
        switch result {
        case .queued(let id, let name, let count):
            print("batch \(name) (id \(id)): \(count) job(s) queued")
        case .alreadyQueued(let id, let name, _, let enqueuedBy) where enqueuedBy == by:
            // A retry after a commit whose answer was lost: this process queued it.
            print("batch \(name) (id \(id)): \(jobs.count) job(s) queued")
        case .alreadyQueued(let id, let name, let at, let enqueuedBy):
            print(
                "batch \(name) (id \(id)) is already queued with the same jobs (enqueued \(Self.time(at)) by "
                    + "\(enqueuedBy)); nothing queued")
        case .nameTaken(let id, let name, let at, let enqueuedBy):
            printError(
                "worker: batch \(name) (id \(id)) is already queued with other jobs (enqueued \(Self.time(at)) by "
                    + "\(enqueuedBy)); nothing queued: give these files another --batch name")
            throw ExitCode.invalidInput
        }
    }

    func validate() throws {
        guard let batch else { return }
        if batch.isEmpty || batch.count > 200
            || batch.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            throw ValidationError(
                "--batch must be 1 to 200 characters without control characters, got \(batch.debugDescription)")
        }
    }

    static func defaultName(host: String, pid: Int32) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withYear, .withMonth, .withDay, .withTime]
        return formatter.string(from: Date()) + "-\(host)-\(pid)"
    }

    static func time(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}

struct Drain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Claims ready jobs from the queue and runs them on the shared pool; any number of hosts may drain.",
        discussion: """
            A job is ready when queued and due (or claimed by a drain that stopped heartbeating for \
            worker.queue.visibility_timeout) and every job it depends on is done. Without --until-empty it waits for \
            work until SIGTERM or SIGINT, which lets running jobs finish (worker.shutdown_grace) and hands back the \
            rest. Exit status: 0 every job it ran succeeded and no leak; 1 a job it ran failed (the queue says \
            whether it will be retried); 2 invalid configuration; 3 the leak check did not pass; 75 the database \
            could not be reached; 130 / 143 stopped by SIGINT / SIGTERM.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @OptionGroup var logging: LoggingOptions

    @Flag(help: "Exit when no job is queued or running anywhere, instead of waiting for more.")
    var untilEmpty = false

    @Option(help: "Stop after claiming this many jobs.")
    var maxJobs: Int?

    @Option(help: "Jobs running at the same time in this drain (default: worker.parallel_jobs, else 4).")
    var parallelJobs: Int?

    @OptionGroup var output: ReportOutput

    func run() async throws {
        logging.bootstrap(quiet: output.quiet)
        let settings = try self.settings.load()
        var options = Drainer.Options()
        options.untilEmpty = untilEmpty
        options.maxJobs = maxJobs
        options.parallelJobs = parallelJobs ?? settings.worker.parallelJobs
        options.visibilityTimeout = settings.worker.queueVisibilityTimeout
        options.retryDelay = settings.worker.queueRetryDelay
        options.pollInterval = settings.worker.queuePollInterval
        options.batch.defaultConcurrency = settings.worker.concurrency
        options.batch.store = settings.worker.memoryStore
        options.batch.retry = settings.worker.retryPolicy
        let drainer = Drainer(settings: settings, options: options)
        let interruptible = InterruptibleRun(shutdown: options.batch.shutdown, grace: settings.worker.shutdownGrace)
        let result = await interruptible.run { await drainer.run() }
        // 128 + the signal, the shell's convention: 130 for SIGINT, 143 for SIGTERM.
        let exitCode =
            options.batch.shutdown.signal.map { 128 + $0 }
            ?? result.report.exitStatus(failOnLeak: output.failOnLeak).rawValue
        if let problem = await drainer.record(result, exitStatus: exitCode) { printWarning(problem) }
        try output.emit(result.report)
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

    func validate() throws {
        if let parallelJobs, parallelJobs < 1 {
            throw ValidationError("--parallel-jobs must be at least 1, got \(parallelJobs)")
        }
        if let maxJobs, maxJobs < 1 {
            throw ValidationError("--max-jobs must be at least 1, got \(maxJobs)")
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Shows the queue: per batch, jobs by state and host, attempts, pool usage, and every drain's leak check.",
        discussion: """
            Exit status: 0 shown; 2 invalid configuration, or no batch has the name or id given; 75 the database \
            could not be reached; 1 another failure.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Argument(help: "A batch's name or id (default: every batch).")
    var batch: String?

    @Flag(help: "One JSON document instead of a table.")
    var json = false

    func run() async throws {
        let settings = try self.settings.load()
        let status: QueueStatus
        do {
            let connection = try await PostgresConnection.connect(settings.connection)
            defer { connection.close() }
            status = try await QueueStatus.read(batch, store: settings.worker.memoryStore, on: connection)
        } catch {
            let diagnosis = FailureDiagnosis(error)
            printError("worker: cannot read the queue: \(diagnosis.summary)")
            throw ExitCode(diagnosis.kind.exitStatus)
        }
        if let batch, status.batches.isEmpty {
            printError("worker: no batch named \(batch.debugDescription) in the queue; `worker status` lists them all")
            throw ExitCode.invalidInput
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
        } else {
            print(status.table())
        }
    }
}
