import Conversation
import Diagnostics
import Foundation

/// The checks a message or query field gets wherever it was written, job file or JSON Lines, so both kinds of
/// source accept exactly the same records. Each returns what is wrong, phrased to follow the field's name
/// ("'role' " + "is 'bot'; expected one of ...").
enum RecordRules {
    static let messageFields = ["id", "user", "session", "role", "content", "created_at"]
    static let queryFields = ["user", "query"]

    /// Identifiers (`user`, `session`) and query text: something to match on.
    static func nonBlankText(_ value: String) -> String? {
        if value.isEmpty { return "is empty; expected a non-empty string" }
        if value.allSatisfy(\.isWhitespace) { return "is blank (\(Quote.text(value))); expected a non-empty string" }
        return storableText(value)
    }

    /// A query's text: something to match on, no longer than `limits` allow.
    static func queryText(_ value: String, limits: QueryLimits) -> String? {
        nonBlankText(value) ?? limits.violation(value)
    }

    /// Any text bound for PostgreSQL, whose `text` type cannot hold NUL.
    static func storableText(_ value: String) -> String? {
        containsNUL(value)
            ? "contains a NUL character (\\u0000), which PostgreSQL text cannot store; remove it from the source"
            : nil
    }

    /// With memchr over the string's bytes when they are contiguous (native strings): every message's content is
    /// checked, and a byte-by-byte walk of the UTF-8 view costs several times more.
    private static func containsNUL(_ value: String) -> Bool {
        value.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        } ?? value.utf8.contains(0)
    }

    /// What a message's `id` may be.
    static let idExpected =
        "a non-empty string or a whole number (a string for long ids), the source's id for the message"

    /// The roles, for messages: "user, assistant, system, tool".
    static let roles = Role.allCases.map(\.rawValue).joined(separator: ", ")

    static func role(_ value: String) -> Result<Role, RuleViolation> {
        if let role = Role(rawValue: value) { return .success(role) }
        return .failure(
            RuleViolation(
                "is \(Quote.text(value)); expected one of \(roles)"
                    + NameSuggestion.hint(for: value, among: Role.allCases.map(\.rawValue))))
    }

    static func createdAt(_ value: String) -> Result<Date, RuleViolation> {
        RFC3339.parse(value).mapError { error in
            RuleViolation("is \(Quote.text(value)) (\(error)); expected \(RFC3339.example)")
        }
    }
}

/// What is wrong with a field's value, without the field's name.
struct RuleViolation: Error {
    var text: String

    init(_ text: String) {
        self.text = text
    }
}
