import Foundation

/// Runs the release-built `worker` on generated job files, as an operator would, and reads its JSON report.
struct WorkerRunner: Sendable {
    let executable: String
    let databaseURL: String
    let directory: URL

    /// The worker next to this executable (both are built by `swift build -c release`), or `$WORKER_BIN`.
    static func locate(databaseURL: String, directory: URL) throws -> WorkerRunner {
        var candidates: [String] = []
        if let named = ProcessInfo.processInfo.environment["WORKER_BIN"], !named.isEmpty { candidates.append(named) }
        if let bench = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(
                URL(fileURLWithPath: bench).deletingLastPathComponent().appendingPathComponent("worker").path)
        }
        guard let worker = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BenchError(
                "the worker binary was not found next to Bench (build it: swift build -c release --product worker)")
        }
        return WorkerRunner(executable: worker, databaseURL: databaseURL, directory: directory)
    }

    /// A config file with only pool settings, so the repository's config.yaml and the caller's environment play no
    /// part (`childEnvironment` drops every `POSTGRES_*`, `STORE_*`, `WORKER_*` variable).
    func writeConfig(name: String, poolSize: Int, maxOverflow: Int) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try "postgres:\n  pool_size: \(poolSize)\n  max_overflow: \(maxOverflow)\n"
            .write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Writes a job file holding one job, given as its YAML lines after `- `.
    func writeJob(name: String, lines: [String]) throws -> URL {
        let url = directory.appendingPathComponent(name)
        let body = lines.enumerated().map { ($0.offset == 0 ? "  - " : "    ") + $0.element }.joined(separator: "\n")
        try "jobs:\n\(body)\n".write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Runs `worker run` on one job file with the store in `schema`; the batch must succeed without a leak.
    func run(job: URL, config: URL, schema: String, label: String) async throws -> WorkerRun {
        let reportURL = directory.appendingPathComponent("\(label).report.json")
        let child = try await Subprocess.run(
            executable: executable,
            arguments: [
                "run", "--config", config.path, "--report", "json", "--report-file", reportURL.path, "--quiet",
                job.path,
            ],
            environment: childEnvironment(databaseURL: databaseURL, adding: ["WORKER_STORE_SCHEMA": schema]),
            logPrefix: directory.appendingPathComponent(label))
        guard child.succeeded else {
            throw BenchError("worker (\(label)) ended with \(child.ending):\n\(child.standardErrorTail())")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let report = try decoder.decode(WorkerReport.self, from: Data(contentsOf: reportURL))
        guard let job = report.jobs.first, job.status == "ok", report.leaks.ok else {
            throw BenchError("worker (\(label)) reported a failure: \(report.jobs.first?.error ?? "a leak")")
        }
        return WorkerRun(
            job: job, process: ProcessFigures(child, reportedPeakRSSMiB: report.batch.peakRssMb),
            batchSeconds: report.batch.durationS,
            itemsPerSecond: Double(job.items) / max(job.durationS, 1e-9))
    }
}

extension WorkerRunner {
    /// Runs `worker eval` on a labelled set (after `jobs`) with the store in `schema`; its overall figures.
    func eval(
        labels: URL, topK: Int, budgetChars: Int, jobs: [URL], config: URL, schema: String, label: String
    ) async throws -> EvalFigures {
        let child = try await Subprocess.run(
            executable: executable,
            arguments: [
                "eval", "--config", config.path, "--labels", labels.path, "--top-k", String(topK), "--budget-chars",
                String(budgetChars), "--report", "json",
            ] + jobs.map(\.path),
            environment: childEnvironment(databaseURL: databaseURL, adding: ["WORKER_STORE_SCHEMA": schema]),
            logPrefix: directory.appendingPathComponent(label))
        guard child.succeeded else {
            throw BenchError("worker (\(label)) ended with \(child.ending):\n\(child.standardErrorTail())")
        }
        struct Report: Decodable { var overall: EvalFigures }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Report.self, from: Data(child.standardOutput().utf8)).overall
    }
}

/// The overall figures of `worker eval --report json`.
struct EvalFigures: Decodable {
    var recallAtK: Double
    var mrrAt10: Double
    var ndcgAt10: Double
    var recallWithinBudget: Double
}

/// The parts of the worker's `--report json` the bench reads.
struct WorkerReport: Decodable {
    struct Batch: Decodable {
        var durationS: Double
        var peakRssMb: Double?
    }

    struct Leaks: Decodable {
        var ok: Bool
    }

    var batch: Batch
    var jobs: [JobFigures]
    var leaks: Leaks
}

/// One job of the worker's report.
struct JobFigures: Codable, Sendable {
    var name: String
    var status: String
    var error: String?
    var durationS: Double
    var tasks: Int
    var items: Int
    var inserted: Int?
    var chunks: Int?
    var hits: Int?
    var poolUsage: PoolUsageFigures?
}

/// The job's `pool_usage`, as the worker measured it around each lease.
struct PoolUsageFigures: Codable, Sendable {
    struct Percentiles: Codable, Sendable {
        var p50: Double
        var p95: Double
        var max: Double
    }

    var leases: Int
    var peakConcurrentLeases: Int
    var waitMs: Percentiles
    var holdMs: Percentiles
    var holdTotalMs: Double
    var timeouts: Int
    var errors: Int
}

/// What the kernel accounted to the worker process.
struct ProcessFigures: Codable, Sendable {
    var wallSeconds: Double
    var userCPUSeconds: Double
    var systemCPUSeconds: Double
    /// Peak resident set size in MB (10^6 bytes): the worker's own VmHWM from its report. wait4's `ru_maxrss`
    /// is only the fallback: it survives exec, and posix_spawn runs the child in the bench's memory until the exec,
    /// so it never reads below the bench's own peak.
    var peakRSSMegabytes: Double

    init(_ child: ChildProcess, reportedPeakRSSMiB: Double?) {
        wallSeconds = child.wallSeconds
        userCPUSeconds = child.userCPUSeconds
        systemCPUSeconds = child.systemCPUSeconds
        peakRSSMegabytes = reportedPeakRSSMiB.map { $0 * 1_048_576 / 1e6 } ?? Double(child.peakRSSBytes) / 1e6
    }
}

/// One worker run: its job as reported, and its process as measured.
struct WorkerRun: Codable, Sendable {
    var job: JobFigures
    var process: ProcessFigures
    /// The whole batch (migration, pool start, the job, closing and the leak check).
    var batchSeconds: Double
    /// Items per second of the job's own duration (the batch's start and end are not part of it).
    var itemsPerSecond: Double
}
