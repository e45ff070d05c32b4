import ConnectionPool
import Foundation
import Jobs
import Logging
import MemoryStore
import Postgres
import Settings

/// Runs a validated batch of jobs on the global pool and proves afterwards that nothing leaked.
///
/// The batch holds one pool reference from start to end, so the pool stays open between jobs; each job holds one
/// more while it runs. When the batch lets go of its reference the pool closes, and the leak check asks the manager
/// (leases, references, pools) and the server (backends this process opened) whether anything is left.
public struct BatchRunner: Sendable {
    public struct Options: Sendable {
        /// Jobs running at the same time (`worker.parallel_jobs`, `--parallel-jobs`).
        public var parallelJobs = 4
        /// Tasks per job when the job does not say (`worker.concurrency`).
        public var defaultConcurrency = 4
        /// The memory store's PostgreSQL schema and text-search configuration.
        public var store = MemoryStore()
        /// How long closing the pool waits for leases still out.
        public var drain: Duration = .seconds(30)
        /// How units that fail for a passing reason (lost connection, server restart) are retried.
        public var retry = RetryPolicy()
        /// Set by a signal handler: jobs and units not yet started are left for the next run.
        public var shutdown = ShutdownRequest()
        /// Told when a job starts and ends, for a live progress display.
        public var progress: (@Sendable (Progress) -> Void)?

        public init() {}
    }

    public let settings: WorkerSettings
    public let options: Options
    public let manager: GlobalConnectionManager
    private let logger: Logger

    public init(
        settings: WorkerSettings,
        options: Options = Options(),
        manager: GlobalConnectionManager = .shared,
        logger: Logger = Logger(label: "memory-worker.batch")
    ) {
        self.settings = settings
        self.options = options
        self.manager = manager
        self.logger = logger
    }

    /// A job's start or end, as ``Options/progress`` hears of it.
    public enum Progress: Sendable {
        case started(job: String, tasks: Int)
        case finished(job: String, succeeded: Bool, items: Int, seconds: Double)
    }

    /// Why a batch could not start: the database could not be reached or its schema could not be applied.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `jobs` (in file order, each after its dependencies) and returns the report; throws ``Unavailable`` when
    /// the database cannot be reached, after closing everything it opened.
    public func run(_ jobs: [Job]) async throws -> BatchReport {
        let startedAt = Date()
        let clock = ContinuousClock.now
        let applicationName = settings.connection["application_name"] ?? ConnectionConfiguration.defaultApplicationName
        let before = try? await ServerConnectionCount.count(
            applicationName: applicationName,
            configuration: settings.connection
        )
        let batchID = Self.batchID(startedAt)
        let batchReference = manager.pool(for: settings.connection, settings: settings.pool, holder: "batch \(batchID)")
        let pool = batchReference.pool
        do {
            let logRetry: (any Error) -> Void = { logger.warning("retrying the migration: \($0)") }
            try await options.retry.run(onRetry: logRetry) {
                try await pool.withConnection(holder: "batch \(batchID) migration") { connection in
                    _ = try await options.store.migrate(on: connection)
                }
            }
        } catch {
            await manager.release(batchReference, drain: options.drain)
            throw Unavailable(description: "cannot prepare the memory store at \(pool.target): \(error)")
        }

        let results = Locked([Int: (outcome: JobOutcome, usage: PoolUsage, duration: Double, tasks: Int)]())
        let scheduler = JobScheduler(
            nodes: jobs.map { JobScheduler.Node(name: $0.name, dependsOn: $0.dependsOn) },
            parallelJobs: options.parallelJobs,
            shutdown: options.shutdown
        )
        let outcomes = await scheduler.run { index in
            let job = jobs[index]
            let reference = manager.pool(for: settings.connection, settings: settings.pool, holder: job.name)
            let leases = JobLeases(pool: reference.pool, job: job.name)
            let tasks = job.concurrency ?? options.defaultConcurrency
            let started = ContinuousClock.now
            logger.info("job \(job.name) started", metadata: ["tasks": "\(tasks)"])
            options.progress?(.started(job: job.name, tasks: tasks))
            let outcome = await JobExecution(
                job: job,
                leases: leases,
                store: options.store,
                concurrency: tasks,
                retry: options.retry,
                shutdown: options.shutdown
            ).run()
            await manager.release(reference, drain: options.drain)
            let duration = Self.seconds(ContinuousClock.now - started)
            results.withLock { $0[index] = (outcome, leases.usage, duration, tasks) }
            options.progress?(
                .finished(job: job.name, succeeded: outcome.error == nil, items: outcome.items, seconds: duration)
            )
            if let error = outcome.error {
                logger.error("job \(job.name) failed: \(error)")
            } else {
                logger.info("job \(job.name) finished", metadata: ["items": "\(outcome.items)"])
            }
            return outcome.error == nil && !outcome.interrupted
        }

        // Closing and checking run in a task of their own: after a shutdown's grace period the batch's task is
        // cancelled, and the pool must still close and the leak check still ask the server.
        let (statistics, leaks) = await Task {
            await finish(batchReference, before: before)
        }.value

        let jobReports = jobs.indices.map { index in
            report(for: jobs[index], outcome: outcomes[index], result: results.withLock { $0[index] })
        }
        let finishedAt = Date()
        let failed = jobReports.filter { $0.status == "failed" }.count
        // Jobs a shutdown stopped or never started did not fail; they are left for the next run, like skipped ones.
        let skipped = jobReports.filter { ["skipped", "not_started", "interrupted"].contains($0.status) }.count
        return BatchReport(
            batch: .init(
                id: batchID,
                startedAt: startedAt,
                finishedAt: finishedAt,
                durationS: Self.seconds(ContinuousClock.now - clock),
                status: options.shutdown.isRequested ? "interrupted" : failed + skipped == 0 ? "ok" : "failed",
                jobsTotal: jobs.count,
                jobsOK: jobReports.filter { $0.status == "ok" }.count,
                jobsFailed: failed,
                jobsSkipped: skipped,
                peakRSSMB: Self.peakResidentMegabytes()
            ),
            pools: statistics,
            jobs: jobReports,
            leaks: leaks
        )
    }

    /// Lets go of the batch's pool reference (closing the pool) and runs the leak check.
    private func finish(
        _ batchReference: GlobalConnectionManager.Reference,
        before: Int?
    ) async -> ([String: PoolStatistics], BatchReport.Leaks) {
        let pool = batchReference.pool
        await manager.release(batchReference, drain: options.drain)
        let statistics = [pool.target: pool.statistics]
        let leakReport = manager.leakReport()
        var leaks = BatchReport.Leaks(
            ok: leakReport.isClean,
            outstandingLeases: leakReport.outstandingLeases.map { entry in
                BatchReport.Leaks.Lease(
                    pool: entry.pool,
                    job: entry.lease.holder,
                    callSite: entry.lease.callSite,
                    heldS: Self.seconds(entry.lease.heldFor)
                )
            },
            activeReferences: leakReport.activeReferences.map { .init(pool: $0.pool, holder: $0.holder) },
            openPools: leakReport.openPools,
            serverConnectionsBefore: before
        )
        do {
            // The verdict counts only backends this process opened; other programs may share the application name.
            let left = try await ServerConnectionCount.count(
                backendPIDs: pool.openedBackendPIDs,
                configuration: settings.connection
            )
            leaks.serverConnectionsAfter = left
            leaks.ok = leaks.ok && left == 0
        } catch {
            leaks.serverCheckError = "\(error)"
        }

        return (statistics, leaks)
    }

    private func report(
        for job: Job,
        outcome: JobScheduler.Outcome,
        result: (outcome: JobOutcome, usage: PoolUsage, duration: Double, tasks: Int)?
    ) -> BatchReport.JobReport {
        let kind: String
        switch job.kind {
        case .ingest: kind = "ingest"
        case .query: kind = "query"
        }
        let status: String
        var error = result?.outcome.error
        switch outcome {
        case .succeeded: status = "ok"
        case .failed: status = result?.outcome.interrupted == true ? "interrupted" : "failed"
        case .skipped(let dependency):
            status = "skipped"
            error = "skipped: depends on '\(dependency)', which did not succeed"
        case .notStarted: status = "not_started"
        }
        return BatchReport.JobReport(
            name: job.name,
            file: job.file,
            kind: kind,
            status: status,
            error: error,
            durationS: result?.duration ?? 0,
            tasks: result?.tasks ?? 0,
            items: result?.outcome.items ?? 0,
            inserted: result?.outcome.inserted,
            duplicates: result?.outcome.duplicates,
            chunks: result?.outcome.chunks,
            hits: result?.outcome.hits,
            badRecords: result?.outcome.badRecords ?? 0,
            badRecordList: result?.outcome.badRecordList ?? [],
            retries: result?.outcome.retries ?? 0,
            databaseUnavailable: result?.outcome.databaseUnavailable ?? false,
            poolUsage: result?.usage
        )
    }

    private static func batchID(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withYear, .withMonth, .withDay, .withTime]
        return formatter.string(from: date) + "-\(ProcessInfo.processInfo.processIdentifier)"
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The process's high-water mark of resident memory, to a tenth of a MiB; nil where it cannot be read.
    ///
    /// Linux's `VmHWM`, not getrusage's `ru_maxrss`: the latter survives exec, so a worker spawned by a large
    /// process (posix_spawn shares the parent's memory until the exec) would report the parent's peak.
    static func peakResidentMegabytes() -> Double? {
        #if os(Linux)
            guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kibibytes = Double(line.dropFirst("VmHWM:".count).split(whereSeparator: \.isWhitespace).first ?? "")
            else { return nil }
            let bytes = kibibytes * 1024
        #else
            var usage = rusage()
            guard getrusage(RUSAGE_SELF, &usage) == 0 else { return nil }
            let bytes = Double(usage.ru_maxrss)  // Darwin counts bytes
        #endif
        return (bytes / 1_048_576 * 10).rounded() / 10
    }
}
