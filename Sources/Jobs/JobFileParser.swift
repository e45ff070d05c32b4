import Diagnostics
import Foundation
import YAMLReading
import Yams

/// Reads one job file into job drafts: the file, the YAML, and the layout (one job, or a `jobs:` list). The
/// fields of each job are `JobFields`' business; checks across jobs and files are `JobValidation`'s.
enum JobFileParser {
    /// Values aliases may add to a job file: plenty for anchored defaults shared by many jobs, far too few for an
    /// alias bomb to cost time or memory.
    static let maxAliasExpansion = 100_000

    static func parse(file: String, queryLimits: QueryLimits, problems: inout FileProblems) -> [JobDraft] {
        guard let text = read(file, problems: &problems) else { return [] }
        let root: Node?
        do {
            root = try YAMLDocument.compose(
                text, maxAliasExpansion: maxAliasExpansion,
                oneDocument: "a job file holds one document, so list several jobs under 'jobs:' instead")
        } catch {
            problems.add(line: error.line ?? 1, error.message)
            return []
        }
        guard let root, root.null == nil else {
            problems.add(
                line: 1,
                "the file has no jobs; write one job (name: ..., kind: ...) or a list of them under 'jobs:'")
            return []
        }
        let rootLine = root.mark?.line ?? 1
        switch root {
        case .mapping(let mapping) where mapping["jobs"] != nil:
            return parseList(mapping, line: rootLine, file: file, queryLimits: queryLimits, problems: &problems)
        case .mapping(let mapping):
            return [JobFields.parse(mapping, line: rootLine, file: file, queryLimits: queryLimits, problems: &problems)]
        case .sequence:
            problems.add(
                line: rootLine,
                "the file is a bare list; put the jobs under 'jobs:' (a line 'jobs:' above the list, items indented)")
            return []
        default:
            problems.add(
                line: rootLine,
                "the file holds \(MappingFields.describe(root)), not a job; expected a job (name: ..., kind: ...) "
                    + "or a list of them under 'jobs:'")
            return []
        }
    }

    /// The jobs of `jobs: [...]`. Nothing else may sit beside the list: a job field there would silently apply to
    /// no job.
    private static func parseList(
        _ mapping: Node.Mapping, line: Int, file: String, queryLimits: QueryLimits, problems: inout FileProblems
    ) -> [JobDraft] {
        for (key, _) in mapping where key.string != "jobs" {
            problems.add(
                line: key.mark?.line ?? line,
                "field \(MappingFields.describe(key)) beside 'jobs:'; a file with a 'jobs:' list holds only the list, "
                    + "so move the field into a job")
        }
        guard let list = mapping["jobs"], list.null == nil else {
            problems.add(line: line, "'jobs:' is empty; expected a list of jobs (- name: ..., kind: ...)")
            return []
        }
        let listLine = list.mark?.line ?? line
        guard case .sequence(let items) = list else {
            problems.add(
                line: listLine,
                "'jobs:' is \(MappingFields.describe(list)); expected a list of jobs, each starting with '- '")
            return []
        }
        if items.isEmpty {
            problems.add(line: listLine, "'jobs:' is an empty list; expected at least one job")
        }
        var drafts: [JobDraft] = []
        for (index, item) in items.enumerated() {
            let itemLine = item.mark?.line ?? listLine
            guard case .mapping(let job) = item else {
                problems.add(
                    line: itemLine,
                    "item \(index + 1) of 'jobs:' is \(MappingFields.describe(item)); expected a job "
                        + "(name: ..., kind: ...)")
                continue
            }
            drafts.append(
                JobFields.parse(job, line: itemLine, file: file, queryLimits: queryLimits, problems: &problems))
        }
        return drafts
    }

    /// The file's text, or nil with a problem when it is missing, not a file, or not UTF-8.
    private static func read(_ file: String, problems: inout FileProblems) -> String? {
        var status = stat()
        guard stat(file, &status) == 0 else {
            let reason = errno == ENOENT ? "no such job file" : String(cString: strerror(errno))
            problems.add(line: 1, "cannot read the job file: \(reason)")
            return nil
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            problems.add(line: 1, "is \(FileType.describe(status.st_mode)), not a job file")
            return nil
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            problems.add(line: 1, "cannot read the job file (permission denied?)")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let line = firstInvalidUTF8Line(data)
            problems.add(line: line, "the job file is not UTF-8 text; save it as UTF-8")
            return nil
        }
        return text
    }

    private static func firstInvalidUTF8Line(_ data: Data) -> Int {
        let bytes = [UInt8](data)
        let offset = bytes.withUnsafeBytes { JSONRecord.invalidUTF8Offset($0) } ?? 0
        return bytes[..<offset].reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }
}
