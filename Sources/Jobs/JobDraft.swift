import Diagnostics
import Foundation

/// A job as read from its file, kept even when some fields are wrong so the checks across jobs (names,
/// dependencies, outputs) still run and report everything in one go.
struct JobDraft {
    var file: String
    var fileIndex: Int
    var line: Int
    /// Nil when missing or invalid.
    var name: Located<String>?
    /// Each entry of `depends_on`, with its own line.
    var dependencies: [Located<String>] = []
    /// The JSON Lines file the job reads, if any.
    var source: NamedFile?
    /// The file a query job writes, if any.
    var output: NamedFile?
    /// The finished job; nil when any of its fields has a problem.
    var job: Job?

    /// How messages name the job.
    var title: String {
        name.map { "job \(Quote.text($0.value))" } ?? "the job at line \(line)"
    }
}

/// A file a job names: where it resolves to, and how and where the job file wrote it.
struct NamedFile {
    var url: URL
    /// The path as written in the job file, for messages.
    var written: String
    var line: Int
}
