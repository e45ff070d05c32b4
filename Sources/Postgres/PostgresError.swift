/// The connection could not be made, was lost, or was used wrongly: the server never judged a statement.
///
/// Messages are redacted: they never contain a password.
public struct PostgresConnectionError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The connection string or a parameter is malformed; retrying will not help.
        case invalidConfiguration = "invalid configuration"
        /// libpq could not open the connection (refused, unreachable, authentication, unknown database, timeout).
        case connectFailed = "connection failed"
        /// The connection broke during use (server restart, killed backend, lost socket, cancel timed out).
        case connectionLost = "connection lost"
        /// The connection was closed by this program before the call.
        case closed = "connection closed"
        /// Another task is using the connection; a connection serves one task at a time.
        case busy = "connection busy"
        /// A parameter value cannot be sent (e.g. text with a NUL character); the statement was not sent.
        case invalidParameter = "invalid parameter"
        /// The server sent something this library does not handle in this place.
        case unexpectedResponse = "unexpected response"
    }

    public var kind: Kind
    /// libpq's or this library's explanation, redacted.
    public var message: String
    /// The masked URL of the database, when known.
    var target: String?

    public var description: String {
        let place = target.map { " to \($0)" } ?? ""
        return "\(kind.rawValue)\(place): \(message)"
    }
}

/// The server reported an error (an `ErrorResponse`), with its SQLSTATE and fields.
public struct PostgresServerError: Error, CustomStringConvertible, Sendable {
    /// The five-character SQLSTATE, e.g. `42P01`.
    public var sqlState: String
    /// `ERROR`, `FATAL` or `PANIC` (never localized).
    var severity: String
    var message: String
    var detail: String?
    public var hint: String?
    /// 1-based character position in the statement that the error points at.
    var position: Int?
    var schema: String?
    var table: String?
    var column: String?
    var constraint: String?

    public var description: String {
        var text = "\(severity) \(sqlState): \(message)"
        if let detail { text += " (detail: \(detail))" }
        if let hint { text += " (hint: \(hint))" }
        return text
    }

    /// SQLSTATE codes this program acts on.
    public enum Code {
        public static let undefinedTable = "42P01"
        public static let undefinedColumn = "42703"
        public static let undefinedFunction = "42883"
        static let uniqueViolation = "23505"
        public static let queryCanceled = "57014"
    }
}

/// A value in a result could not become the Swift type asked for.
struct PostgresDecodingError: Error, CustomStringConvertible, Sendable {
    var column: String
    var row: Int
    var expected: String
    /// What the server sent, cut short; `nil` for SQL NULL.
    var value: String?

    var description: String {
        let shown = value.map { "'\($0.prefix(64))'" } ?? "NULL"
        return "column '\(column)' of row \(row): cannot read \(shown) as \(expected)"
    }
}
