import CLibPQ
import Foundation

/// What the connection's errors say, and when they mark it broken. Everything libpq or the server says passes through
/// the configuration's redaction first, so no password reaches a message.
extension PostgresConnection {
    /// The error for a libpq call that failed: the connection is lost if libpq says so, otherwise libpq disliked what
    /// it was given.
    func lost() -> PostgresConnectionError {
        broken = PQstatus(handle) != CONNECTION_OK || broken
        return PostgresConnectionError(
            kind: broken ? .connectionLost : .unexpectedResponse,
            message: configuration.redact(Self.errorMessage(handle)),
            target: target
        )
    }

    func unexpected(_ message: String) -> PostgresConnectionError {
        PostgresConnectionError(kind: .unexpectedResponse, message: message, target: target)
    }

    func closedError() -> PostgresConnectionError {
        PostgresConnectionError(kind: .closed, message: "the connection was closed", target: target)
    }

    /// The server's error in `result`, or a lost connection when libpq made the error itself.
    func serverError(_ result: OpaquePointer) -> any Error {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue ?? 0)).map { configuration.redact(String(cString: $0)) }
        }
        guard let sqlState = field("C") else {
            // No SQLSTATE: libpq made this error itself, because the connection failed.
            let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
            broken = PQstatus(handle) != CONNECTION_OK || broken
            return PostgresConnectionError(
                kind: .connectionLost,
                message: configuration.redact(Self.tidy(message.isEmpty ? Self.errorMessage(handle) : message)),
                target: target
            )
        }
        return PostgresServerError(
            sqlState: sqlState,
            severity: field("V") ?? field("S") ?? "ERROR",
            message: field("M") ?? "",
            detail: field("D"),
            hint: field("H"),
            position: field("P").flatMap { Int($0) },
            schema: field("s"),
            table: field("t"),
            column: field("c"),
            constraint: field("n")
        )
    }

    static func errorMessage(_ handle: OpaquePointer) -> String {
        tidy(PQerrorMessage(handle).map { String(cString: $0) } ?? "unknown error")
    }

    /// What to do about a refused connection that libpq reports without advice; nil for the rest. It matches the
    /// server's English wording: a server with translated messages only loses the advice.
    static func advice(forConnectFailure message: String) -> String? {
        let limits = [
            "too many clients already", "too many connections for", "remaining connection slots are reserved",
        ]
        guard limits.contains(where: message.contains) else { return nil }
        return "the server is at its connection limit: max_connections, or a CONNECTION LIMIT on the role or "
            + "database; lower pool_size + max_overflow, run fewer workers at once, or raise the limit"
    }

    /// libpq's messages are multi-line with tab indents; one line reads better in logs and reports.
    private static func tidy(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}
