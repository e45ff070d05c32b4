import Foundation

/// A question of a labelled set and what answers it.
public struct LabelledQuery: Sendable, Equatable {
    public var user: String
    public var query: String
    /// Each a message's source id (`id`) or its exact text; whole numbers are read as their digits.
    public var relevant: [String]
    /// The label's category, when it has one.
    public var category: String?
    /// The line of the labels file, for messages.
    public var line: Int
}

/// A labelled set, JSON Lines: `{"user", "query", "relevant": [ids or texts], "category"?}` per line, blank lines
/// skipped. Read whole (labelled sets are small) and checked whole: every bad line is reported with its `file:line`,
/// and queries obey the same limits as a query job's.
public enum LabelsFile {
    public static func load(_ path: String, limits: QueryLimits) throws(JobValidationError) -> [LabelledQuery] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw JobValidationError(problems: ["\(path): cannot read the labels file: \(error.localizedDescription)"])
        }
        var labels: [LabelledQuery] = []
        var problems: [String] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
            switch Self.label(Data(line), line: index + 1, limits: limits) {
            case .success(let label): labels.append(label)
            case .failure(let violation): problems.append("\(path):\(index + 1): \(violation.text)")
            }
        }
        if labels.isEmpty, problems.isEmpty {
            problems.append("\(path): holds no labels; expected one JSON object per line")
        }
        guard problems.isEmpty else { throw JobValidationError(problems: problems) }
        return labels
    }

    private static let expected =
        #"expected {"user": "...", "query": "...", "relevant": [message ids or exact texts], "category": "..."}"#

    private static func label(_ line: Data, line number: Int, limits: QueryLimits) -> Result<
        LabelledQuery, RuleViolation
    > {
        guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
            return .failure(RuleViolation("the line is not a JSON object; \(expected)"))
        }
        guard let user = object["user"] as? String, !user.isEmpty else {
            return .failure(RuleViolation("field 'user' is missing or not a non-empty string; \(expected)"))
        }
        guard let query = object["query"] as? String, !query.isEmpty else {
            return .failure(RuleViolation("field 'query' is missing or not a non-empty string; \(expected)"))
        }
        if let violation = limits.violation(query) { return .failure(RuleViolation("field 'query' \(violation)")) }
        let relevant = (object["relevant"] as? [Any])?.compactMap { item -> String? in
            if let text = item as? String { return text }
            if let number = item as? NSNumber, number.doubleValue == number.doubleValue.rounded() {
                return number.stringValue
            }
            return nil
        }
        guard let relevant, !relevant.isEmpty, relevant.count == (object["relevant"] as? [Any])?.count else {
            return .failure(
                RuleViolation("field 'relevant' is missing or not a non-empty list of ids and texts; \(expected)"))
        }
        let category = object["category"] as? String
        if object["category"] != nil, category == nil {
            return .failure(RuleViolation("field 'category' is not a string; \(expected)"))
        }
        return .success(
            LabelledQuery(user: user, query: query, relevant: relevant, category: category, line: number))
    }
}
