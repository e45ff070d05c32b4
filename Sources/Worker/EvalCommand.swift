import ArgumentParser
import Batch
import ConnectionPool
import Foundation
import Jobs
import Settings

/// `worker eval`: runs job files (typically the ingest of a labelled set), then asks the labelled questions through
/// the store's own search and reports how well the hits answer them.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Runs the job files, then measures the search on a labelled set (recall, MRR, nDCG).",
        discussion: """
            The labels file is JSON Lines: {"user", "query", "relevant": [message ids or exact texts], "category"?} \
            (worker generate --labels writes one). Each query runs through the same search as a query job, with the \
            settings worker run uses. Prints recall@k, MRR@10, nDCG@10 and the recall of the hits that fit in \
            --budget-chars characters (whole hits), overall and per category. Exit status: as worker run for the \
            jobs; 2 for a bad labels file or option; 0 once the evaluation is printed.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @OptionGroup var logging: LoggingOptions

    @Option(help: ArgumentHelp("The labelled set (JSON Lines).", valueName: "file"))
    var labels: String

    @Option(help: "k of recall@k.")
    var topK = 10

    @Option(help: "Characters of hits (whole hits, best first) that recall within the budget counts.")
    var budgetChars = 2000

    @Option(help: "What to print on stdout: a table for people or one JSON document.")
    var report: ReportOutput.Format = .table

    @Argument(help: "Job files (YAML) to run first, e.g. the ingest of the labelled set's messages.")
    var files: [String] = []

    func validate() throws {
        guard (1...1000).contains(topK) else { throw ValidationError("--top-k must lie in 1...1000, got \(topK)") }
        guard budgetChars >= 1 else { throw ValidationError("--budget-chars must be at least 1, got \(budgetChars)") }
    }

    func run() async throws {
        // Quiet unless --log-level says otherwise: the evaluation is the output, not the batch's progress.
        logging.bootstrap(quiet: true)
        let settings = try self.settings.load()
        let jobs = try loadJobs(files, queryLimits: settings.worker.queryLimits, configFile: settings.configFile)
        let labelled: [LabelledQuery]
        do {
            labelled = try LabelsFile.load(labels, limits: settings.worker.queryLimits)
        } catch {
            for problem in error.problems { printError("worker: \(problem)") }
            throw ExitCode.invalidInput
        }
        var options = BatchRunner.Options()
        options.parallelJobs = settings.worker.parallelJobs
        options.defaultConcurrency = settings.worker.concurrency
        options.store = settings.worker.memoryStore
        options.retry = settings.worker.retryPolicy
        let batch = await BatchRunner(settings: settings, options: options).run(jobs)
        let status = batch.exitStatus(failOnLeak: true)
        guard status == .success else {
            print(batch.table())
            if let failure = batch.batch.failure { printError("worker: \(failure.reason)", sqlState: failure.sqlState) }
            throw ExitCode(status)
        }

        let evaluation = RetrievalEvaluation(topK: topK, budgetChars: budgetChars)
        let store = settings.worker.memoryStore
        let manager = GlobalConnectionManager.shared
        let reference = manager.pool(for: settings.connection, settings: settings.pool, holder: "eval")
        let result: RetrievalEvaluation.Report
        do {
            result = try await reference.pool.withConnection(holder: "eval") { connection in
                try await evaluation.run(labelled, store: store, on: connection)
            }
            await manager.release(reference)
        } catch {
            await manager.release(reference)
            let diagnosis = FailureDiagnosis(error)
            printError("worker: eval: the search failed at \(reference.pool.target): \(diagnosis.summary)")
            throw ExitCode(diagnosis.kind.exitStatus)
        }
        switch report {
        case .json: print(try result.json())
        case .table: print(result.table())
        }
    }
}
