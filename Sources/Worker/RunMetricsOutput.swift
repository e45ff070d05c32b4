import ArgumentParser
import Batch
import Diagnostics
import Foundation
import Jobs
import Postgres
import RunMetrics

/// `worker run`'s metrics file: checked before the batch starts, written when it ends, whatever the outcome.
struct RunMetricsOutput {
    let file: MetricsFile
    let metrics: RunMetrics

    /// The file `--metrics-file` names, else `worker.metrics_file`; nil when neither does. A file the worker cannot
    /// write, or one that is another file of the batch, ends the program with exit code 2 before anything runs; the
    /// message masks the connection's passwords and any the path seems to carry (a URL pasted as the path).
    init?(
        flag: String?, setting: String?, reportFile: String?, files: [String], jobs: [Job], configFile: String?,
        connection: ConnectionConfiguration
    ) throws {
        guard let path = flag ?? setting else { return nil }
        let shown = "\(flag == nil ? "worker.metrics_file" : "--metrics-file") \(Quote.path(path))"
        let file = MetricsFile(path)
        let problem =
            ReportFileCheck.problem(
                path, files: files, jobs: jobs, configFile: configFile, reportFile: reportFile, writing: "the metrics")
            ?? file.problem
        if let problem {
            let secrets = Redaction.apparentSecrets(in: path)
            printError("worker: " + connection.redact(Redaction.hide(secrets, in: "\(shown) \(problem)")))
            throw ExitCode.invalidInput
        }
        self.file = file
        metrics = RunMetrics()
    }

    /// Writes the metrics of `report`. A run that did not succeed keeps the replaced file's last success time, so the
    /// metric goes on saying when the batch last succeeded. A failure to write is reported, and does not change the
    /// exit status: the batch's outcome is what cron must see.
    func write(_ report: BatchReport, exitCode: Int32) {
        let finished = Date()
        let lastSuccess = exitCode == 0 ? finished : file.previousLastSuccess()
        let text = metrics.text(report: report, exitCode: exitCode, finished: finished, lastSuccess: lastSuccess)
        do {
            try file.write(text)
        } catch {
            printError("worker: \(error)")
        }
    }
}
