import Foundation

/// Reads and checks a batch of job files.
///
/// Everything is validated before anything runs, and every problem in every file is reported at once, each as
/// `file:line: message`, so an operator fixes a batch in one pass instead of one error per run. JSON Lines sources
/// are only checked to exist and be readable here; their records are checked while streaming.
public enum JobLoader {
    /// The jobs of `files`, in file order and then in order within each file.
    ///
    /// Relative `source` and `output` paths are resolved against each job file's folder, never the working
    /// directory, so cron and operators get the same files. No files means no jobs. A query longer than
    /// `queryLimits` allows is a problem; query jobs keep the limits for the queries of their sources. An `output`
    /// may not be `configFile`, the settings file the batch runs with, nor any job file or source.
    public static func load(
        files: [String], queryLimits: QueryLimits = QueryLimits(), configFile: String? = nil
    ) throws(JobValidationError) -> [Job] {
        var problems = ProblemLog()
        var drafts: [JobDraft] = []
        var seen: [String: String] = [:]
        for (fileIndex, file) in files.enumerated() {
            var fileProblems = FileProblems(file: file, fileIndex: fileIndex)
            // The same file twice (a glob and a name, say) would report every job as a duplicate of itself.
            let identity = FileIdentity(URL(fileURLWithPath: file)).path
            if let earlier = seen[identity] {
                fileProblems.add(
                    line: 1, "the same job file as \(earlier), which is already in the batch; list it once")
            } else {
                seen[identity] = file
                drafts += JobFileParser.parse(file: file, queryLimits: queryLimits, problems: &fileProblems)
            }
            problems.add(contentsOf: fileProblems.problems)
        }
        JobValidation.check(drafts, files: files, configFile: configFile, problems: &problems)
        guard problems.isEmpty else {
            throw JobValidationError(problems: problems.sortedDescriptions())
        }
        let jobs = drafts.compactMap(\.job)
        guard jobs.count == drafts.count else {
            // Unreachable: a draft without a job always comes with a problem. Kept so a slip cannot drop a job.
            let lost = drafts.filter { $0.job == nil }.map { "\($0.file):\($0.line): \($0.title) could not be read" }
            throw JobValidationError(problems: lost)
        }
        return jobs
    }
}
