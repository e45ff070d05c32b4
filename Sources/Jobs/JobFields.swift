import Diagnostics
import Foundation
import Yams

/// The fields every job has, and the dispatch to the fields of its kind.
enum JobFields {
    /// Where a job's records come from: `source` (a JSON Lines file) or the inline list `inline`, exactly one of them;
    /// nil after adding a problem when both or neither are given or the chosen one is wrong.
    static func source<Item: Sendable>(
        of fields: MappingFields,
        inline: String,
        file: String,
        draft: inout JobDraft,
        problems: inout FileProblems,
        inlineItems: (inout FileProblems) -> [Item]?
    ) -> Source<Item>? {
        switch (fields.has("source"), fields.has(inline)) {
        case (true, true):
            problems.add(
                line: max(fields.line(of: "source"), fields.line(of: inline)),
                "\(fields.owner) has both 'source' and '\(inline)'; keep one: a JSON Lines file or an inline list")
            return nil
        case (false, false):
            problems.add(
                line: fields.line,
                "\(fields.owner) has neither 'source' nor '\(inline)'; add source: FILE.jsonl (a JSON Lines file) or "
                    + "an inline \(inline): list")
            return nil
        case (true, false):
            draft.source = path(
                "source", of: fields, file: file, expected: "the path of a JSON Lines file",
                check: FileChecks.sourceProblem, problems: &problems)
            return draft.source.map { .file($0.url) }
        case (false, true):
            return inlineItems(&problems).map { .inline($0) }
        }
    }

    /// The words `kind` accepts.
    enum KindName: String, CaseIterable {
        case ingest
        case query
    }

    static let commonFields = ["name", "kind", "concurrency", "depends_on"]

    static func parse(
        _ mapping: Node.Mapping, line: Int, file: String, queryLimits: QueryLimits, problems: inout FileProblems
    ) -> JobDraft {
        let problemsBefore = problems.count
        var fields = MappingFields(mapping, line: line, owner: "the job at line \(line)", problems: &problems)
        var draft = JobDraft(file: file, fileIndex: problems.fileIndex, line: line)
        draft.name = fields.identifier(
            "name", required: true, expected: "a job name, unique in the batch, such as 'ingest-alice'",
            problems: &problems)
        fields.owner = draft.title

        let kind: KindName? = fields.choice("kind", required: true, problems: &problems)
        switch kind {
        case .ingest:
            fields.reportUnknown(
                known: commonFields + IngestFields.fields, elsewhere: note(for: .query, in: .ingest),
                problems: &problems)
        case .query:
            fields.reportUnknown(
                known: commonFields + QueryFields.fields, elsewhere: note(for: .ingest, in: .query),
                problems: &problems)
        case nil:
            fields.reportUnknown(
                known: commonFields + IngestFields.fields
                    + QueryFields.fields.filter { !IngestFields.fields.contains($0) },
                problems: &problems)
        }

        let concurrency = fields.integer(
            "concurrency", in: 1...Int.max, expected: "a whole number of 1 or more (leave it out for the default)",
            problems: &problems)
        draft.dependencies = dependencies(fields, problems: &problems)

        let spec: Job.Kind?
        switch kind {
        case .ingest:
            spec = IngestFields.parse(fields, file: file, draft: &draft, problems: &problems).map(Job.Kind.ingest)
        case .query:
            spec = QueryFields.parse(fields, file: file, limits: queryLimits, draft: &draft, problems: &problems)
                .map(Job.Kind.query)
        case nil:
            spec = nil
        }

        if let name = draft.name, let spec, problems.count == problemsBefore {
            var seen = Set<String>()
            draft.job = Job(
                name: name.value, file: file, line: line, kind: spec, concurrency: concurrency,
                dependsOn: draft.dependencies.map(\.value).filter { seen.insert($0).inserted })
        }
        return draft
    }

    /// `depends_on: a` or `depends_on: [a, b]`, each name with its line.
    private static func dependencies(_ fields: MappingFields, problems: inout FileProblems) -> [Located<String>] {
        let expected = "a job name or a list of job names"
        guard let node = fields.value("depends_on") else { return [] }
        let items: [Node]
        switch node {
        case .scalar: items = [node]
        case .sequence(let sequence): items = Array(sequence)
        default:
            fields.problem(
                "depends_on", is: "is \(MappingFields.describe(node))", expected: expected, problems: &problems)
            return []
        }
        var names: [Located<String>] = []
        for item in items {
            let itemLine = item.mark?.line ?? fields.line(of: "depends_on")
            guard case .scalar(let scalar) = item, item.null == nil, !scalar.string.isEmpty else {
                problems.add(
                    line: itemLine,
                    "an entry of 'depends_on' in \(fields.owner) is \(MappingFields.describe(item)); expected a job "
                        + "name")
                continue
            }
            names.append(Located(value: scalar.string, line: itemLine))
        }
        return names
    }

    /// Notes for the fields of the other kind of job, so `top_k` in an ingest job says why it is wrong.
    private static func note(for other: KindName, in kind: KindName) -> [String: String] {
        let mine = kind == .ingest ? IngestFields.fields : QueryFields.fields
        let theirs = other == .ingest ? IngestFields.fields : QueryFields.fields
        var notes: [String: String] = [:]
        for field in theirs where !mine.contains(field) {
            notes[field] = "is for \(other.rawValue) jobs, not \(kind.rawValue) jobs; remove it or change 'kind'"
        }
        return notes
    }

    /// A file the job names, resolved against the job file's folder and checked with `check`; nil with a problem
    /// when the check fails.
    static func path(
        _ key: String, of fields: MappingFields, file: String, expected: String, check: (URL) -> String?,
        problems: inout FileProblems
    ) -> NamedFile? {
        guard let text = fields.string(key, expected: expected, problems: &problems) else { return nil }
        guard !text.value.isEmpty else {
            fields.problem(key, is: "is empty", expected: expected, problems: &problems)
            return nil
        }
        let url = FileChecks.resolve(text.value, relativeTo: file)
        if let problem = check(url) {
            let resolved =
                text.value.hasPrefix("/") ? "" : " (resolved to \(Quote.path(url.path)) from the job file's folder)"
            problems.add(line: text.line, "\(key) \(Quote.path(text.value)) of \(fields.owner) \(problem)\(resolved)")
            return nil
        }
        return NamedFile(url: url, written: text.value, line: text.line)
    }
}
