import Diagnostics
import Foundation

/// The checks that need the whole batch: unique names, dependencies that exist and do not go round in a circle,
/// and outputs that overwrite nothing the batch reads.
enum JobValidation {
    static func check(_ drafts: [JobDraft], files: [String], configFile: String?, problems: inout ProblemLog) {
        let firstByName = uniqueNames(drafts, problems: &problems)
        checkDependencies(drafts, firstByName: firstByName, problems: &problems)
        DependencyCycles.report(drafts, firstByName: firstByName, problems: &problems)
        checkOutputs(drafts, files: files, configFile: configFile, problems: &problems)
    }

    /// The index of each name's first job; a problem for every later job with the same name.
    private static func uniqueNames(_ drafts: [JobDraft], problems: inout ProblemLog) -> [String: Int] {
        var firstByName: [String: Int] = [:]
        for (index, draft) in drafts.enumerated() {
            guard let name = draft.name else { continue }
            guard let first = firstByName[name.value] else {
                firstByName[name.value] = index
                continue
            }
            let firstDraft = drafts[first]
            let firstLine = firstDraft.name?.line ?? firstDraft.line
            problems.add(
                problem(
                    draft, line: name.line,
                    "duplicate job name \(Quote.text(name.value)): also defined at \(firstDraft.file):\(firstLine); "
                        + "names must be unique across all job files of a batch, so rename one of them"))
        }
        return firstByName
    }

    private static func checkDependencies(_ drafts: [JobDraft], firstByName: [String: Int], problems: inout ProblemLog)
    {
        let names = drafts.compactMap(\.name?.value)
        for draft in drafts {
            // A job cannot depend on itself, so its own name is never the one meant.
            let others = names.filter { $0 != draft.name?.value }
            for dependency in draft.dependencies where firstByName[dependency.value] == nil {
                var message =
                    "\(draft.title) depends on \(Quote.text(dependency.value)), which is not a job in this batch"
                if let suggestion = NameSuggestion.closest(to: dependency.value, among: others) {
                    message += "; did you mean '\(suggestion)'?"
                } else {
                    message += "; fix the name, or add the job file that defines it to the command line"
                }
                problems.add(problem(draft, line: dependency.line, message))
            }
        }
    }

    /// An output must be a file of its own: writing it must not destroy a job file, the config file, a source (this
    /// job's or any other's, which may run later) or another job's results.
    private static func checkOutputs(
        _ drafts: [JobDraft], files: [String], configFile: String?, problems: inout ProblemLog
    ) {
        let jobFiles = files.map { (file: $0, identity: FileIdentity(URL(fileURLWithPath: $0))) }
        let config = configFile.map { (file: $0, identity: FileIdentity(URL(fileURLWithPath: $0))) }
        let sources = drafts.map { draft in draft.source.map { FileIdentity($0.url) } }
        var earlierOutputs: [(draft: JobDraft, identity: FileIdentity)] = []
        for draft in drafts {
            guard let output = draft.output else { continue }
            let identity = FileIdentity(output.url)
            let shown = "output \(Quote.path(output.written)) of \(draft.title)"
            if let jobFile = jobFiles.first(where: { $0.identity.isSameFile(as: identity) }) {
                problems.add(
                    problem(
                        draft, line: output.line,
                        "\(shown) is the job file \(jobFile.file); writing results would destroy it, so name "
                            + "another file"))
            }
            if let config, config.identity.isSameFile(as: identity) {
                problems.add(
                    problem(
                        draft, line: output.line,
                        "\(shown) is the config file \(config.file); writing results would destroy it, so name "
                            + "another file"))
            }
            for (index, source) in sources.enumerated() {
                guard let source, source.isSameFile(as: identity), let named = drafts[index].source else { continue }
                problems.add(
                    problem(
                        draft, line: output.line,
                        "\(shown) is the source of \(drafts[index].title) (\(drafts[index].file):\(named.line)); "
                            + "writing results would destroy it, so name another file"))
            }
            if let earlier = earlierOutputs.first(where: { $0.identity.isSameFile(as: identity) }) {
                let line = earlier.draft.output?.line ?? earlier.draft.line
                problems.add(
                    problem(
                        draft, line: output.line,
                        "\(shown) is also the output of \(earlier.draft.title) (\(earlier.draft.file):\(line)); "
                            + "one would overwrite the other, so give each job its own file"))
            }
            earlierOutputs.append((draft, identity))
        }
    }

    static func problem(_ draft: JobDraft, line: Int, _ message: String) -> Problem {
        Problem(file: draft.file, fileIndex: draft.fileIndex, line: line, message: message)
    }
}
