import ConnectionPool
import MemoryStore
import Postgres

/// What kind of failure stopped something: it decides whether the failure is retried and which exit status cron sees.
public enum FailureKind: String, Sendable, Codable {
    /// May pass on its own: the database is unreachable, starting, shutting down or at its connection limit, a
    /// connection was lost, a serialization failure or deadlock. Retried; exit 75, so cron may try again later.
    case transient
    /// The worker's configuration must change: credentials, the database's name, `worker.text_search_config`. Exit 2.
    case configuration
    /// Anything else that retrying cannot fix: a missing privilege, a store written by a newer program, a statement
    /// the server refused. Exit 1.
    case permanent
    /// A signal (SIGINT, SIGTERM) stopped the run; its exit status is 128 + the signal.
    case interrupted

    /// The exit status cron reads; for ``interrupted`` the command that saw the signal exits 128 + the signal instead.
    public var exitStatus: ExitStatus {
        switch self {
        case .transient: .databaseUnavailable
        case .configuration: .invalidInput
        case .permanent, .interrupted: .failure
        }
    }
}

/// An error, classified: its kind, its SQLSTATE, and what to do about it.
///
/// libpq gives no SQLSTATE for a connection the server refused, only its message, so refusals are recognised by the
/// English wording of libpq and the server; a server with translated messages only loses the SQLSTATE and the hint,
/// and its refusals count as transient.
public struct FailureDiagnosis: Sendable {
    public var kind: FailureKind
    /// The error as it describes itself (passwords are never in it: connection errors are redacted at the source).
    public var message: String
    public var sqlState: String?
    /// What to do about it, when the worker knows (or the server said).
    public var hint: String?

    public init(_ error: any Error) {
        message = "\(error)"
        switch error {
        case let error as PoolError:
            if error.kind == .connectFailed, let underlying = error.underlying {
                let cause = FailureDiagnosis(underlying)
                (kind, sqlState, hint) = (cause.kind, cause.sqlState, cause.hint)
            } else {
                (kind, sqlState, hint) = (.permanent, nil, nil)
            }
        case let error as PostgresConnectionError:
            switch error.kind {
            case .connectFailed:
                (kind, sqlState, hint) = Self.refusal(error.message) ?? (.transient, nil, nil)
            case .connectionLost: (kind, sqlState, hint) = (.transient, nil, nil)
            case .invalidConfiguration: (kind, sqlState, hint) = (.configuration, nil, nil)
            case .closed, .busy, .invalidParameter, .unexpectedResponse: (kind, sqlState, hint) = (.permanent, nil, nil)
            }
        case let error as PostgresServerError:
            (kind, sqlState, hint) = (Self.kind(ofServerError: error.sqlState), error.sqlState, error.hint)
            if error.sqlState == "42501" { hint = Self.privilegeHint }
        case let error as MemoryStoreError:
            switch error {
            case .invalidName:
                (kind, sqlState, hint) = (.configuration, nil, nil)
            case .unknownTextSearchConfig:
                let hint = "set worker.text_search_config (WORKER_TEXT_SEARCH_CONFIG) to one the server has"
                (kind, sqlState, self.hint) = (.configuration, nil, hint)
            case .textSearchConfigMismatch(_, let recorded, _):
                let hint =
                    "set worker.text_search_config (WORKER_TEXT_SEARCH_CONFIG) to '\(recorded)', or "
                    + "worker.store_schema (WORKER_STORE_SCHEMA) to a schema of its own"
                (kind, sqlState, self.hint) = (.configuration, nil, hint)
            default:
                (kind, sqlState, hint) = (.permanent, nil, nil)
            }
        default:
            (kind, sqlState, hint) = (.permanent, nil, nil)
        }
    }

    /// One line for logs and reports: the message, then the SQLSTATE and the hint where the message lacks them.
    public var summary: String {
        var text = message
        if let sqlState, !text.contains(sqlState) { text += " (SQLSTATE \(sqlState))" }
        if let hint, !text.contains(hint) { text += "; hint: \(hint)" }
        return text
    }

    // MARK: Rules

    /// Server errors that may pass: connection exceptions (class 08), administrator or crash shutdown, a server
    /// starting up, serialization failure, deadlock, too many connections.
    private static func kind(ofServerError code: String) -> FailureKind {
        if code.hasPrefix("08") || ["57P01", "57P02", "57P03", "40001", "40P01", "53300"].contains(code) {
            return .transient
        }
        // The role, its password or the database does not exist or is refused.
        if ["28000", "28P01", "3D000"].contains(code) { return .configuration }
        return .permanent
    }

    private static let privilegeHint =
        "the role lacks a privilege the memory store needs: its first run (or worker migrate) creates the schema, "
        + "which needs CREATE on the database; GRANT it, or run worker migrate once as a role that has it"

    /// A refused connection that retrying cannot fix, or one that may pass but has a known SQLSTATE; nil for the
    /// rest (refused, timed out, unknown host, TLS), which count as transient.
    private static func refusal(_ message: String) -> (FailureKind, String?, String?)? {
        let rules: [(words: [String], kind: FailureKind, sqlState: String?, hint: String?)] = [
            (
                ["no password supplied"], .configuration, nil,
                "the server asks for a password and none is configured: give it in DATABASE_URL, POSTGRES_PASSWORD, "
                    + "PGPASSWORD or ~/.pgpass"
            ),
            (
                ["password authentication failed"], .configuration, "28P01",
                "check the user and password (a role that does not exist is refused the same way)"
            ),
            (
                ["no pg_hba.conf entry"], .configuration, "28000",
                "the server's pg_hba.conf does not let this user reach this database from this host"
            ),
            (["is not permitted to log in"], .configuration, "28000", "the role lacks LOGIN: use another user"),
            (["role \"", "does not exist"], .configuration, "28000", "check the user name"),
            (
                ["database \"", "does not exist"], .configuration, "3D000",
                "check the database name (the URL's path, POSTGRES_DB or dbname)"
            ),
            (
                ["permission denied for database"], .permanent, "42501",
                "the role may not connect to this database: GRANT CONNECT on it to the role"
            ),
            (["too many clients already"], .transient, "53300", nil),
            (["too many connections for"], .transient, "53300", nil),
            (["remaining connection slots are reserved"], .transient, "53300", nil),
            (["the database system is starting up"], .transient, "57P03", nil),
            (["the database system is shutting down"], .transient, "57P03", nil),
            (["the database system is in recovery mode"], .transient, "57P03", nil),
            (["the database system is not yet accepting connections"], .transient, "57P03", nil),
        ]
        guard let rule = rules.first(where: { $0.words.allSatisfy(message.contains) }) else { return nil }
        return (rule.kind, rule.sqlState, rule.hint)
    }
}
