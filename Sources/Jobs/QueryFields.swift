import Foundation
import Yams

/// The fields of a query job, and its inline queries.
enum QueryFields {
    static let fields = ["user", "queries", "source", "top_k", "budget_chars", "output", "on_bad_record"]

    /// The spec, or nil when a field is wrong (the problems say which).
    static func parse(
        _ fields: MappingFields, file: String, limits: QueryLimits, draft: inout JobDraft, problems: inout FileProblems
    ) -> QuerySpec? {
        let problemsBefore = problems.count
        let user = fields.identifier(
            "user", expected: "the user whose memory the queries search", problems: &problems)
        let topK = fields.integer(
            "top_k", in: 1...1000, expected: "a whole number from 1 to 1000 (default 5)", problems: &problems)
        let budgetChars = fields.integer(
            "budget_chars", in: 1...10_000_000,
            expected: "a whole number of characters from 1 to 10000000 (default: no budget)", problems: &problems)
        let onBadRecord: OnBadRecord? = fields.choice("on_bad_record", problems: &problems)
        draft.output = JobFields.path(
            "output", of: fields, file: file, expected: "the path of the file to write results to",
            check: FileChecks.outputProblem, problems: &problems)

        let source: Source<QueryItem>? = JobFields.source(
            of: fields, inline: "queries", file: file, draft: &draft, problems: &problems
        ) { problems in
            queries(fields, user: user?.value, limits: limits, problems: &problems)
        }

        guard let source, problems.count == problemsBefore else { return nil }
        return QuerySpec(
            user: user?.value, source: source, topK: topK ?? 5, budgetChars: budgetChars, output: draft.output?.url,
            onBadRecord: onBadRecord ?? .fail, limits: limits)
    }

    /// The inline queries: a string uses the job's user, a mapping may name its own. Nil when any is wrong.
    private static func queries(
        _ fields: MappingFields, user: String?, limits: QueryLimits, problems: inout FileProblems
    ) -> [QueryItem]? {
        let expected = "a list of queries, each a string or a mapping {user: ..., query: ...}"
        guard let node = fields.value("queries") else { return nil }
        guard case .sequence(let items) = node else {
            fields.problem("queries", is: "is \(MappingFields.describe(node))", expected: expected, problems: &problems)
            return nil
        }
        guard !items.isEmpty else {
            fields.problem("queries", is: "is an empty list", expected: expected, problems: &problems)
            return nil
        }
        let problemsBefore = problems.count
        var queries: [QueryItem] = []
        for (index, item) in items.enumerated() {
            let owner = "query \(index + 1) of \(fields.owner)"
            let itemLine = item.mark?.line ?? fields.line(of: "queries")
            switch item {
            case .scalar(let scalar) where item.null == nil:
                if let violation = RecordRules.queryText(scalar.string, limits: limits) {
                    problems.add(line: itemLine, "\(owner) \(violation)")
                } else if let user {
                    queries.append(QueryItem(user: user, query: scalar.string, line: itemLine))
                } else {
                    problems.add(
                        line: itemLine,
                        "\(owner) names no user and the job has no 'user'; add user: NAME to the job, or write the "
                            + "query as {user: NAME, query: ...}")
                }
            case .mapping(let mapping):
                let query = MappingFields(mapping, line: itemLine, owner: owner, problems: &problems)
                query.reportUnknown(known: RecordRules.queryFields, problems: &problems)
                var text = query.identifier(
                    "query", required: true, expected: "the text to search for", problems: &problems)
                if let located = text, let violation = limits.violation(located.value) {
                    problems.add(line: located.line, "field 'query' in \(owner) \(violation)")
                    text = nil
                }
                let itemUser = query.identifier(
                    "user", required: user == nil,
                    expected: "the user whose memory to search (the job has no 'user' to fall back on)",
                    problems: &problems)
                if let text, let queryUser = itemUser?.value ?? user {
                    queries.append(QueryItem(user: queryUser, query: text.value, line: itemLine))
                }
            default:
                problems.add(
                    line: itemLine,
                    "\(owner) is \(MappingFields.describe(item)); expected the query text or a mapping "
                        + "{user: ..., query: ...}")
            }
        }
        return problems.count == problemsBefore ? queries : nil
    }
}
