import Diagnostics
import Foundation

/// The file `--report-file` (or `--metrics-file`) names must be one of its own, like a job's `output`: writing the
/// report must not destroy a job file, a source, the config file or a job's results.
public enum ReportFileCheck {
    /// What `path` already is to the batch, phrased to follow it ("is the job file jobs.yaml; …"); nil when it is
    /// none of these files. `writing` names what would be written there; `reportFile`, when the metrics are, is
    /// taken too.
    public static func problem(
        _ path: String, files: [String], jobs: [Job], configFile: String?, reportFile: String? = nil,
        writing: String = "the report"
    ) -> String? {
        let report = FileIdentity(URL(fileURLWithPath: path))
        func isReport(_ url: URL) -> Bool { FileIdentity(url).isSameFile(as: report) }
        let taken: String?
        if let file = files.first(where: { isReport(URL(fileURLWithPath: $0)) }) {
            taken = "the job file \(file)"
        } else if let configFile, isReport(URL(fileURLWithPath: configFile)) {
            taken = "the config file \(configFile)"
        } else if let reportFile, isReport(URL(fileURLWithPath: reportFile)) {
            taken = "the --report-file \(reportFile)"
        } else if let (job, role) = jobs.lazy.compactMap({ job in role(of: job, isReport).map { (job, $0) } }).first {
            taken = "the \(role) of job \(Quote.text(job.name)) (\(job.file):\(job.line))"
        } else {
            taken = nil
        }
        return taken.map { "is \($0); writing \(writing) would destroy it, so name another file" }
    }

    /// Whether `job` reads (`source`) or writes (`output`) a file that `matches`.
    private static func role(of job: Job, _ matches: (URL) -> Bool) -> String? {
        switch job.kind {
        case .ingest(let spec):
            if case .file(let url) = spec.source, matches(url) { return "source" }
        case .query(let spec):
            if case .file(let url) = spec.source, matches(url) { return "source" }
            if let output = spec.output, matches(output) { return "output" }
        }
        return nil
    }
}
