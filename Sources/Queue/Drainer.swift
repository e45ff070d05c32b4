import Batch
import ConnectionPool
import Foundation
import Jobs
import Logging
import Postgres
import Settings
import Support

/// Claims ready jobs from the queue and runs them on the process's one global pool, exactly as `worker run` runs a
/// batch's jobs, until the queue is empty, a job budget is spent, or a signal asks it to stop.
///
/// Its pool reference spans the whole drain, like a batch's, and the drain ends with the same leak check, which it
/// also records in the queue, so `worker status` shows every drain's verdict beside the jobs it ran.
public struct Drainer: Sendable {
    public struct Options: Sendable {
        /// Stop when no job is queued or running anywhere, instead of waiting for more.
        public var untilEmpty = false
        /// Stop after claiming this many jobs.
        public var maxJobs: Int?
        /// Jobs running at the same time in this drain.
        public var parallelJobs = 4
        /// A claim whose heartbeat is older than this may be taken by another drain; heartbeats come every quarter.
        public var visibilityTimeout: Duration = .seconds(60)
        /// The delay before a job's second try, doubled for each further one, jittered, at most an hour.
        public var retryDelay: Duration = .seconds(10)
        /// How often an idle drain looks for work.
        public var pollInterval: Duration = .seconds(2)
        /// How each job runs: tasks, store, retries of units, the shutdown request, progress.
        public var batch = BatchRunner.Options()
        /// This drain's host, as the queue shows it.
        public var host = hostName()

        public init() {}
    }

    /// A drain's report (jobs it ran, pool statistics, leak check) and its id in the queue, if it got one.
    public struct Result: Sendable {
        public var report: BatchReport
        public var drainID: Int64?
    }

    public let settings: WorkerSettings
    public let options: Options
    public let manager: GlobalConnectionManager
    private let logger: Logger

    public init(
        settings: WorkerSettings, options: Options = Options(), manager: GlobalConnectionManager = .shared,
        logger: Logger = Logger(label: "memory-worker.drain")
    ) {
        self.settings = settings
        self.options = options
        self.manager = manager
        self.logger = logger
    }

    public func run() async -> Result {
        let startedAt = Date()
        let clock = ContinuousClock.now
        let runner = BatchRunner(settings: settings, options: options.batch, manager: manager)
        let before = await runner.serverConnections()
        let pid = ProcessInfo.processInfo.processIdentifier
        let reference = manager.pool(for: settings.connection, settings: settings.pool, holder: "drain \(pid)")
        var failure = await runner.prepareStore(on: reference.pool, batchID: "drain \(pid)")
        var drainID: Int64?
        let reports = Locked<[BatchReport.JobReport]>([])
        if failure == nil {
            do {
                let queue = try JobQueue(store: options.batch.store, pool: reference.pool)
                let id = try await options.batch.retry.run {
                    try await queue.prepare()
                    return try await queue.registerDrain(
                        host: options.host, pid: pid, applicationName: applicationName)
                }
                drainID = id
                logger.notice("drain \(id) started on \(options.host)", metadata: ["drain": "\(id)"])
                await DrainLoop(
                    queue: queue, drain: id, runner: runner, connection: settings.connection, options: options,
                    logger: logger
                ) { report in reports.withLock { $0.append(report) } }.run()
            } catch {
                let diagnosis = FailureDiagnosis(error)
                failure = BatchReport.Failure(
                    kind: diagnosis.kind,
                    reason: "cannot use the job queue at \(reference.pool.target): "
                        + diagnosis.summary, sqlState: diagnosis.sqlState, hint: diagnosis.hint)
            }
        }
        let (statistics, leaks) = await Task { await runner.finish(reference, before: before) }.value
        let report = runner.assemble(
            id: drainID.map { "drain-\($0)" } ?? "drain", startedAt: startedAt, since: clock,
            jobs: reports.withLock { $0 }, failure: failure, statistics: statistics, leaks: leaks)
        return Result(report: report, drainID: drainID)
    }

    /// Records the drain's end and its leak verdict in the queue, on a connection of its own: the drain's pool is
    /// closed by then, so that its check could see it gone. Returns why it could not, if it could not.
    public func record(_ result: Result, exitStatus: Int32) async -> String? {
        guard let drainID = result.drainID else { return nil }
        do {
            let leaks = try String(decoding: JSONEncoder().encode(result.report.leaks), as: UTF8.self)
            try await options.batch.retry.run {
                let connection = try await PostgresConnection.connect(settings.connection)
                defer { connection.close() }
                try await JobQueue.finishDrain(
                    drainID, exitStatus: exitStatus, leaksOK: result.report.leaks.ok, leaks: leaks,
                    store: options.batch.store, on: connection)
            }
            return nil
        } catch {
            return "cannot record drain \(drainID)'s end in the queue: \(FailureDiagnosis(error).summary)"
        }
    }

    private var applicationName: String {
        settings.connection["application_name"] ?? ConnectionConfiguration.defaultApplicationName
    }
}

/// The drain's work: `parallelJobs` slots that each claim and run one job at a time, and a heartbeat that renews
/// every claim the drain holds and stops the jobs whose claims were taken over.
private struct DrainLoop: Sendable {
    let queue: JobQueue
    let drain: Int64
    let runner: BatchRunner
    /// For the listening connection, which is the drain's own, outside the pool.
    let connection: ConnectionConfiguration
    let options: Drainer.Options
    let logger: Logger
    let collect: @Sendable (BatchReport.JobReport) -> Void
    private let wakeup = Wakeup()

    /// Claims made so far, for `--max-jobs`, and the running jobs' tasks, for the heartbeat to cancel.
    private struct State {
        var claims = 0
        var running: [ClaimID: Task<BatchRunner.SingleRun, Never>] = [:]
    }

    private let state = Locked(State())

    init(
        queue: JobQueue, drain: Int64, runner: BatchRunner, connection: ConnectionConfiguration,
        options: Drainer.Options, logger: Logger, collect: @escaping @Sendable (BatchReport.JobReport) -> Void
    ) {
        self.queue = queue
        self.drain = drain
        self.runner = runner
        self.connection = connection
        self.options = options
        self.logger = logger
        self.collect = collect
    }

    func run() async {
        let heartbeat = Task { await beat() }
        let listener = Task { await listen() }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<options.parallelJobs {
                group.addTask { await slot() }
            }
        }
        heartbeat.cancel()
        listener.cancel()
        await heartbeat.value
        // Closed before the drain's leak check, which must find no connection of the drain's left.
        await listener.value
    }

    private var shutdown: ShutdownRequest { options.batch.shutdown }

    private func slot() async {
        while !shutdown.isRequested, !Task.isCancelled, reserveClaim() {
            let claim: Claim?
            do {
                claim = try await options.batch.retry.run {
                    try await queue.claim(drain: drain, visibilityTimeout: options.visibilityTimeout)
                }
            } catch {
                returnClaim()
                logger.error("cannot claim a job: \(FailureDiagnosis(error).summary); trying again later")
                await idle()
                continue
            }
            guard let claim else {
                returnClaim()
                if options.untilEmpty, (try? await queue.openJobs()) == 0 { return }
                await idle()
                continue
            }
            await execute(claim)
            wakeup.signal()
        }
    }

    /// Takes one claim from the `--max-jobs` budget; false when it is spent.
    private func reserveClaim() -> Bool {
        state.withLock { state in
            if let maxJobs = options.maxJobs, state.claims >= maxJobs { return false }
            state.claims += 1
            return true
        }
    }

    private func returnClaim() {
        state.withLock { $0.claims -= 1 }
    }

    /// Waits a jittered poll interval, or less: until a notification or a job of this drain finishing may have
    /// made a job ready, or a signal asks the drain to stop.
    private func idle() async {
        let wait = options.pollInterval * Double.random(in: 0.5...1.0)
        _ = try? await shutdown.cancellingOnRequest { [wakeup] in await wakeup.wait(upTo: wait) }
    }

    /// Listens on the queue's channel on a connection of its own and wakes the idle slots at each notification, so
    /// work queued or readied elsewhere starts at once rather than at the next poll. Behind a pooler in transaction
    /// mode a `LISTEN` stays with whichever server connection ran it, so notifications would go astray: the drain
    /// then relies on polling alone.
    private func listen() async {
        var configuration = connection
        let name = configuration["application_name"] ?? ConnectionConfiguration.defaultApplicationName
        configuration["application_name"] = name + "-listen"
        while !Task.isCancelled {
            do {
                let listening = try await PostgresConnection.connect(configuration)
                defer { listening.close() }
                guard !listening.throughPooler else {
                    logger.info(
                        "the database is reached through a connection pooler: polling for work every \(options.pollInterval)"
                    )
                    return
                }
                try await listening.query("LISTEN \"\(queue.channel)\"")
                wakeup.signal()
                while true {
                    _ = try await listening.nextNotification()
                    wakeup.signal()
                }
            } catch {
                if Task.isCancelled { return }
                logger.info(
                    "not listening for queue notifications (\(FailureDiagnosis(error).summary)); polling meanwhile")
                try? await Task.sleep(for: options.pollInterval)
            }
        }
    }

    private func execute(_ claim: Claim) async {
        let label = "\(claim.batchName)/\(claim.name)"
        var metadata: Logger.Metadata = ["job": "\(label)", "attempt": "\(claim.attempt)"]
        if let takenOver = claim.takenOver {
            metadata["previous"] = "\(takenOver)"
            logger.warning("job \(label): \(takenOver)", metadata: metadata)
        }
        let ending: Ending
        let report: BatchReport.JobReport?
        do {
            let job = try JSONDecoder().decode(JobDefinition.self, from: Data(claim.definition.utf8)).job()
            if claim.attempt > claim.maxAttempts {
                (ending, report) = (
                    .dead(
                        error: (claim.takenOver ?? "no attempt left") + "; all \(claim.maxAttempts) attempts spent",
                        report: nil), nil
                )
            } else if let unreadable = unreadableSource(of: job) {
                (ending, report) = (failedAttempt(claim, error: unreadable, report: nil, mayPass: true), nil)
            } else {
                let run = await runTracked(job, claim: claim)
                var jobReport = run.report
                jobReport.name = label
                let json = try String(decoding: JSONEncoder().encode(jobReport), as: UTF8.self)
                switch jobReport.status {
                case .ok: ending = .done(report: json)
                case .interrupted: ending = .released(report: json)
                default:
                    ending = failedAttempt(
                        claim, error: jobReport.error ?? "failed", report: json, mayPass: run.failureMayPass)
                }
                report = jobReport
            }
        } catch {
            (ending, report) = (.failed(error: "\(error)", report: nil), nil)
        }
        if let report { collect(report) }
        do {
            // Not cancelled with the drain: after a signal's grace period the drain's task is cancelled, and the
            // ending (a job handed back, above all) must still be recorded.
            let recorded = try await Task { [options, queue] in
                try await options.batch.retry.run { try await queue.finish(claim, ending) }
            }.value
            if !recorded {
                logger.warning(
                    "job \(label): another drain took it over while it ran (its heartbeat was late); this attempt's end is not recorded",
                    metadata: metadata)
            } else if ending.state != "done" {
                logger.warning("job \(label): \(ending.outcome): \(ending.error ?? "")", metadata: metadata)
            }
        } catch {
            logger.error(
                "job \(label): cannot record its end (\(FailureDiagnosis(error).summary)); another drain runs it again once its claim expires",
                metadata: metadata)
        }
    }

    /// Runs the job in a task the heartbeat can cancel when the claim is lost, and which the drain's cancellation
    /// (the end of a signal's grace period) cancels too.
    private func runTracked(_ job: Job, claim: Claim) async -> BatchRunner.SingleRun {
        let task = Task { [runner, queue] in await runner.run(single: job, on: queue.pool) }
        state.withLock { $0.running[claim.id] = task }
        let run = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        state.withLock { _ = $0.running.removeValue(forKey: claim.id) }
        return run
    }

    /// A failed attempt: tried again later when the failure may pass and attempts remain, dead when none remain,
    /// failed at once when another attempt would fail the same way.
    private func failedAttempt(_ claim: Claim, error: String, report: String?, mayPass: Bool) -> Ending {
        guard mayPass else { return .failed(error: error, report: report) }
        guard claim.attempt < claim.maxAttempts else {
            return .dead(error: error + "; all \(claim.maxAttempts) attempts spent", report: report)
        }
        let growth = pow(2, Double(min(claim.attempt - 1, 20)))
        let delay = min(options.retryDelay * growth, .seconds(3600)) * Double.random(in: 0.5...1.0)
        return .retry(error: error, report: report, after: delay)
    }

    /// Why this host cannot read a source of `job`, if it cannot: the queue stores paths, and every drain's host must
    /// see the same files.
    private func unreadableSource(of job: Job) -> String? {
        for path in JobDefinition(job).sources where !FileManager.default.isReadableFile(atPath: path) {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"
            return "host \(options.host) cannot read source \(path) (\(reason)): the queue's sources must be on "
                + "storage every drain's host can read"
        }
        return nil
    }

    /// Renews the drain's claims every quarter of the visibility timeout; cancels the jobs whose claims another drain
    /// took over, so they stop writing.
    private func beat() async {
        let interval = options.visibilityTimeout / 4
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            do {
                let held = try await queue.heartbeat(drain: drain)
                let lost = state.withLock { state in
                    state.running.filter { !held.contains($0.key) }.map(\.value)
                }
                for task in lost { task.cancel() }
            } catch {
                logger.warning("cannot renew the drain's claims: \(FailureDiagnosis(error).summary)")
            }
        }
    }
}
