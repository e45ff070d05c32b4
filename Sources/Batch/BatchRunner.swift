import BatchLock
import ConnectionPool
import Foundation
import Jobs
import Logging
import MemoryStore
import Postgres
import Settings
import Support

/// Runs a validated batch of jobs on the global pool and proves afterwards that nothing leaked.
///
/// The batch holds one pool reference from start to end, so the pool stays open between jobs, and its jobs lease
/// connections from that pool. When the batch lets go of its reference the pool closes, and the leak check asks the
/// manager (leases, references, pools) and the server (the backends the pool opened) whether anything is left.
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
        /// `counters` are the job's, to poll while it runs.
        case started(job: String, tasks: Int, counters: JobCounters)
        case finished(job: String, succeeded: Bool, items: Int, seconds: Double)
    }

    /// Runs `jobs` (in file order, each after its dependencies) and returns the report. When the memory store
    /// cannot be prepared no job runs, and the report says why (`batch.failure`), with every job `not_started`.
    public func run(_ jobs: [Job]) async -> BatchReport {
        let report: Result<BatchReport, Never> = await run(jobs) { _ in .success(nil) }
        return report.get()
    }

    /// Runs `jobs` like ``run(_:)``, holding `lock` from when the store is prepared until the jobs end (also when
    /// they fail or a signal stops them), or runs nothing when another run holds it (after ``BatchLock/wait``).
    ///
    /// A refused run returns who holds the lock and no report: it did nothing to report, and the report and metrics
    /// files it would write are the holder's. Failing to take the lock (the database unreachable, a signal while
    /// waiting) is a failure like the store's preparation: a report whose `batch.failure` says why. A lock found
    /// lost while the jobs run starts no further job, and the report's `batch.failure` says so.
    public func run(_ jobs: [Job], holding lock: BatchLock) async -> Result<BatchReport, BatchLock.Refusal> {
        await run(jobs) { pool in try await lock.take(on: pool).map { Optional($0) } }
    }

    /// The batch, with `takeLock` called on its pool once the store is ready; a refusal ends the batch there.
    private func run<Refusal: Error>(
        _ jobs: [Job],
        takeLock: @escaping @Sendable (ConnectionPool) async throws -> Result<HeldBatchLock?, Refusal>
    ) async -> Result<BatchReport, Refusal> {
        let startedAt = Date()
        let clock = ContinuousClock.now
        let before = await serverConnections()
        let batchID = Self.batchID(startedAt)
        let batchReference = manager.pool(for: settings.connection, settings: settings.pool, holder: "batch \(batchID)")
        let pool = batchReference.pool
        var failure = await prepareStore(on: pool, batchID: batchID)
        var held: HeldBatchLock?
        if failure == nil {
            switch await take(takeLock, on: pool) {
            case .done(.success(let taken)): held = taken
            case .done(.failure(let refusal)):
                _ = await Task { await finish(batchReference, before: before) }.value
                return .failure(refusal)
            case .failed(let cause): failure = cause
            }
        }
        let lock = held

        let outcomes: [JobScheduler<JobResult>.Outcome]
        if failure == nil {
            var scheduler = JobScheduler<JobResult>(
                nodes: jobs.map { .init(name: $0.name, dependsOn: $0.dependsOn) },
                parallelJobs: options.parallelJobs,
                shutdown: options.shutdown
            )
            if let lock { scheduler.halted = { lock.isLost } }
            outcomes = await scheduler.run { index in await run(jobs[index], on: pool) }
        } else {
            outcomes = jobs.map { _ in .notStarted }
        }

        // Releasing, closing and checking run in a task of their own: after a shutdown's grace period the batch's
        // task is cancelled, and the lock must still be released, the pool closed and the server asked.
        let (statistics, leaks) = await Task {
            await lock?.release()
            return await finish(batchReference, before: before)
        }.value
        if let lock, lock.isLost, failure == nil {
            failure = BatchReport.Failure(
                kind: .permanent,
                reason: "the batch lock \(lock.lock.key) was lost while the jobs ran (its lease of "
                    + "\(lock.lock.lease.seconds) s ran out without a heartbeat, and another run may have taken it); "
                    + "jobs not yet started were left",
                hint: "raise worker.lock.lease (WORKER_LOCK_LEASE) if the database was slow to answer"
            )
        }

        let jobReports = zip(jobs, outcomes).map { job, outcome in report(for: job, outcome: outcome) }
        return .success(
            assemble(
                id: batchID, startedAt: startedAt, since: clock, jobs: jobReports, failure: failure,
                statistics: statistics, leaks: leaks))
    }

    /// The server's connections under this worker's application name, for the report's before-and-after; nil when
    /// the server cannot be asked.
    public func serverConnections() async -> Int? {
        let applicationName = settings.connection["application_name"] ?? ConnectionConfiguration.defaultApplicationName
        return try? await ServerConnectionCount.count(
            applicationName: applicationName, configuration: settings.connection)
    }

    /// The report of a batch, or of a drain's jobs, from its parts; the status follows from the jobs, the failure
    /// that kept them from starting, and whether a signal stopped them.
    public func assemble(
        id: String, startedAt: Date, since clock: ContinuousClock.Instant, jobs jobReports: [BatchReport.JobReport],
        failure: BatchReport.Failure?, statistics: [String: PoolStatistics], leaks: BatchReport.Leaks
    ) -> BatchReport {
        let count = { (statuses: Set<JobStatus>) in jobReports.filter { statuses.contains($0.status) }.count }
        let status: BatchStatus
        switch failure?.kind {
        case .transient: status = .unreachable
        case .configuration, .permanent: status = .failed
        case .interrupted: status = .interrupted
        case nil:
            status = options.shutdown.isRequested ? .interrupted : count([.ok]) == jobReports.count ? .ok : .failed
        }
        return BatchReport(
            batch: .init(
                id: id,
                startedAt: startedAt,
                finishedAt: Date(),
                durationS: (ContinuousClock.now - clock).seconds,
                status: status,
                jobsTotal: jobReports.count,
                jobsOK: count([.ok]),
                jobsFailed: count([.failed]),
                jobsInterrupted: count([.interrupted]),
                // Jobs a shutdown or a failed preparation kept from starting are left for the next run.
                jobsSkipped: count([.skipped, .notStarted]),
                peakRSSMB: Self.peakResidentMegabytes(),
                failure: failure
            ),
            pools: statistics,
            jobs: jobReports,
            leaks: leaks
        )
    }

    /// One job run outside a batch's schedule, as a queue's drain runs the jobs it claims.
    public struct SingleRun: Sendable {
        /// The job's line of a report, its pool usage included.
        public var report: BatchReport.JobReport
        /// It failed for a reason another attempt may not meet: the database stayed unreachable.
        public var failureMayPass: Bool
    }

    /// Runs `job` on `pool` exactly as ``run(_:)`` runs each job of a batch (its tasks, leases, retries and
    /// shutdown); the caller holds the pool reference and has prepared the store.
    public func run(single job: Job, on pool: ConnectionPool) async -> SingleRun {
        let run = await run(job, on: pool)
        let report = report(for: job, outcome: run.succeeded ? .succeeded(run.result) : .failed(run.result))
        return SingleRun(report: report, failureMayPass: run.result.outcome.databaseUnavailable)
    }

    /// Brings the memory store's schema up to date, retrying failures that may pass with one log line per retry.
    /// A shutdown request cancels it at once (the migration may be waiting for another worker's lock). Returns why
    /// it failed, or nil when the store is ready.
    public func prepareStore(on pool: ConnectionPool, batchID: String) async -> BatchReport.Failure? {
        let prepared = await beforeJobs(
            doing: "prepare the memory store", while: "the memory store at \(pool.target) was being prepared",
            at: pool
        ) {
            try await pool.withConnection(holder: "batch \(batchID) migration") { connection in
                _ = try await options.store.migrate(on: connection)
            }
        }
        guard case .failed(let failure) = prepared else { return nil }
        return failure
    }

    /// Takes the batch lock with `takeLock`, retrying failures that may pass; a shutdown request stops a wait for
    /// it at once. The held lock or the refusal, or why it could not be taken.
    private func take<Refusal: Error>(
        _ takeLock: @escaping @Sendable (ConnectionPool) async throws -> Result<HeldBatchLock?, Refusal>,
        on pool: ConnectionPool
    ) async -> StepOutcome<Result<HeldBatchLock?, Refusal>> {
        await beforeJobs(
            doing: "take the batch lock", while: "the batch lock at \(pool.target) was being taken", at: pool
        ) {
            try await takeLock(pool)
        }
    }

    /// Runs `step`, work before the first job, retrying failures that may pass with one log line per retry. A
    /// shutdown request cancels it at once (it may be waiting for another worker's lock). Its value, or why it
    /// failed: what it was `doing`, or what was happening `while` the signal came.
    private func beforeJobs<Value: Sendable>(
        doing: String, while happening: String, at pool: ConnectionPool,
        _ step: @escaping @Sendable () async throws -> Value
    ) async -> StepOutcome<Value> {
        do {
            return .done(
                try await options.shutdown.cancellingOnRequest {
                    try await options.retry.run(onRetry: { logRetry($0, doing: doing) }, step)
                })
        } catch {
            if let signal = options.shutdown.signal {
                return .failed(
                    BatchReport.Failure(
                        kind: .interrupted,
                        reason: "interrupted by signal \(signal) while \(happening); no job started"
                    ))
            }
            let diagnosis = FailureDiagnosis(error)
            return .failed(
                BatchReport.Failure(
                    kind: diagnosis.kind,
                    reason: "cannot \(doing) at \(pool.target): \(diagnosis.summary)",
                    sqlState: diagnosis.sqlState,
                    hint: diagnosis.hint
                ))
        }
    }

    /// What a step before the first job came to.
    private enum StepOutcome<Value: Sendable> {
        case done(Value)
        case failed(BatchReport.Failure)
    }

    private func logRetry(_ retry: RetryPolicy.Retry, doing: String) {
        let delay = String(format: "%.2f", retry.delay.seconds)
        var metadata: Logger.Metadata = [:]
        if let sqlState = FailureDiagnosis(retry.error).sqlState { metadata["sqlstate"] = "\(sqlState)" }
        logger.warning(
            "cannot \(doing) (\(retry.error)): retrying in \(delay) s (attempt \(retry.attempt) of \(retry.attempts))",
            metadata: metadata
        )
    }

    /// What one job did, as the scheduler hands it back.
    struct JobResult: Sendable {
        var outcome: JobOutcome
        var usage: PoolUsage
        var duration: Double
        var tasks: Int
    }

    /// Runs one job on the batch's pool; what it did, and whether its dependents may run.
    private func run(_ job: Job, on pool: ConnectionPool) async -> JobScheduler<JobResult>.Run {
        let leases = JobLeases(pool: pool, job: job.name)
        let tasks = job.concurrency ?? options.defaultConcurrency
        let started = ContinuousClock.now
        logger.notice("job \(job.name) started", metadata: ["job": "\(job.name)", "tasks": "\(tasks)"])
        let counters = JobCounters()
        options.progress?(.started(job: job.name, tasks: tasks, counters: counters))
        let execution = JobExecution(
            job: job,
            counters: counters,
            leases: leases,
            store: options.store,
            concurrency: tasks,
            retry: options.retry,
            shutdown: options.shutdown
        )
        let outcome: JobOutcome
        switch job.kind {
        case .query:
            // Round trips, one statement each: its tasks run on the socket reactor's thread, as an event loop, so a
            // statement's wait costs no hop between threads.
            outcome = await PostgresExecutor.run { await execution.run() }
        case .ingest:
            // Parsing and encoding messages is CPU work that may use every core: Swift's global executor.
            outcome = await execution.run()
        }
        let duration = (ContinuousClock.now - started).seconds
        options.progress?(
            .finished(job: job.name, succeeded: outcome.error == nil, items: outcome.items, seconds: duration)
        )
        if let error = outcome.error {
            var metadata: Logger.Metadata = ["job": "\(job.name)"]
            if let sqlState = outcome.sqlState { metadata["sqlstate"] = "\(sqlState)" }
            logger.error("job \(job.name) failed: \(error)", metadata: metadata)
        } else {
            logger.notice(
                "job \(job.name) finished",
                metadata: [
                    "job": "\(job.name)", "items": "\(outcome.items)", "seconds": "\(String(format: "%.2f", duration))",
                ])
        }
        return .init(
            result: JobResult(outcome: outcome, usage: leases.usage, duration: duration, tasks: tasks),
            succeeded: outcome.error == nil && !outcome.interrupted
        )
    }

    /// Lets go of the batch's pool reference (closing the pool) and runs the leak check: the manager's side (leases,
    /// references, pools), the connections' (every one the pool opened must be closed) and the server's (every
    /// backend the pool opened must be gone; through a connection pooler, the pooler's client list instead).
    public func finish(
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
                    heldS: entry.lease.heldFor.seconds
                )
            },
            activeReferences: leakReport.activeReferences.map { .init(pool: $0.pool, holder: $0.holder) },
            openPools: leakReport.openPools,
            serverConnectionsBefore: before
        )
        // The client's side: every connection the pool opened is closed now.
        let opened = pool.openedConnections
        let stillOpen = opened.filter { !$0.isClosed }
        leaks.clientConnectionsChecked = opened.count
        leaks.clientConnectionsOpen = stillOpen.count
        leaks.ok = leaks.ok && stillOpen.isEmpty
        // The server's side. Only backends this pool opened count; other programs may share the application name. A
        // pool that opened none (the server was never reached) leaves nothing to ask about. Asking is retried like
        // any unit: a server at its connection limit frees the pool's slots a moment after the pool closes.
        let pooled = opened.filter(\.throughPooler)
        leaks.throughPooler = !pooled.isEmpty
        let pids = opened.filter { !$0.throughPooler }.map(\.backendPID)
        if pooled.isEmpty || !pids.isEmpty {
            do {
                let left =
                    pids.isEmpty
                    ? []
                    : try await options.retry.run {
                        try await ServerConnectionCount.backendsLeft(among: pids, configuration: settings.connection)
                    }
                leaks.serverBackendsChecked = pids.count
                leaks.serverConnectionsLeft = left.count
                leaks.serverBackendsLeft = left
                leaks.ok = leaks.ok && left.isEmpty
            } catch {
                leaks.serverCheckError = "not checked: \(FailureDiagnosis(error).summary)"
                leaks.ok = false
            }
        }
        // Through a pooler, server connections stay open in the pooler's pool by design and the process ids libpq
        // had are the pooler's keys: its admin console is asked which of this process's connections it still
        // serves. Not every user may use the console; the client's side stands alone then, and the report says so.
        if !pooled.isEmpty {
            do {
                let left = try await ServerConnectionCount.poolerClientsLeft(
                    of: pooled, configuration: settings.connection)
                leaks.poolerClientsLeft = left
                leaks.ok = leaks.ok && left == 0
            } catch {
                leaks.poolerCheckError = "not checked: \(FailureDiagnosis(error).summary)"
            }
        }
        return (statistics, leaks)
    }

    private func report(for job: Job, outcome: JobScheduler<JobResult>.Outcome) -> BatchReport.JobReport {
        let kind: String
        switch job.kind {
        case .ingest: kind = "ingest"
        case .query: kind = "query"
        }
        let result = outcome.result
        let status: JobStatus
        var error = result?.outcome.error
        switch outcome {
        case .succeeded: status = .ok
        case .failed(let result): status = result.outcome.interrupted ? .interrupted : .failed
        case .skipped(let dependency):
            status = .skipped
            error = "skipped: depends on '\(dependency)', which did not succeed"
        case .notStarted: status = .notStarted
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

    /// The process's high-water mark of resident memory, to a tenth of a MiB; nil where it cannot be read.
    ///
    /// Linux's `VmHWM`, not getrusage's `ru_maxrss`: the latter survives exec, so a worker spawned by a large
    /// process (posix_spawn shares the parent's memory until the exec) would report the parent's peak.
    static func peakResidentMegabytes() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kibibytes = Double(line.dropFirst("VmHWM:".count).split(whereSeparator: \.isWhitespace).first ?? "")
        else { return nil }
        let bytes = kibibytes * 1024
        return (bytes / 1_048_576 * 10).rounded() / 10
    }
}
