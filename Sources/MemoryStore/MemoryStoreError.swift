/// Why the store refused a call, in terms the caller can act on.
///
/// Database and connection failures are not wrapped: they arrive as the `Postgres` module's own errors, with their
/// SQLSTATE intact, so a caller can still tell a lost connection (retry) from a server error.
public enum MemoryStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A schema or text-search configuration name is not a plain lower-case identifier.
    case invalidName(kind: String, value: String)
    /// The server has no text-search configuration of this name.
    case unknownTextSearchConfig(String)
    /// The schema was migrated with another text-search configuration, which its generated `messages.tsv` column
    /// bakes in.
    case textSearchConfigMismatch(schema: String, recorded: String, requested: String)
    /// The schema has been migrated by a newer program than this one.
    case schemaTooNew(schema: String, found: Int, known: Int)
    /// A migration needs an extension the database lacks, and this role could not install it.
    case extensionUnavailable(name: String, reason: String)
    /// The schema has not been migrated, or only to an older version than this program's.
    case notMigrated(schema: String)
    /// A message cannot be stored; `index` is its place in the batch (0-based).
    case invalidMessage(index: Int, reason: String)
    /// `maxChunkChars` must be at least 1.
    case invalidChunkSize(Int)
    /// The connection is inside a transaction; the store runs its own and must not commit the caller's.
    case transactionInProgress
    /// The server answered in a shape the store's own statements cannot produce: a bug, not bad input.
    case unexpectedResult(String)
    /// The server cancelled a statement that ran longer than its ``StatementTimeouts`` allow.
    case statementTimeout(StatementTimeouts.Kind, limit: Duration)

    public var description: String {
        switch self {
        case .invalidName(let kind, let value):
            "invalid \(kind) '\(value)': use a plain lower-case identifier ([a-z_][a-z0-9_]*, at most 63 characters)"
        case .unknownTextSearchConfig(let name):
            "unknown text search configuration '\(name)': the server has none of that name"
                + " (SELECT cfgname FROM pg_ts_config lists them)"
        case .textSearchConfigMismatch(let schema, let recorded, let requested):
            "schema '\(schema)' was created with text search configuration '\(recorded)', not '\(requested)';"
                + " it is baked into the generated column \(schema).messages.tsv. Use '\(recorded)' for this schema,"
                + " or pick a new schema name for '\(requested)' (or DROP SCHEMA \(schema) CASCADE and re-ingest)"
        case .schemaTooNew(let schema, let found, let known):
            "schema '\(schema)' is at version \(found), but this program knows versions up to \(known):"
                + " upgrade the program"
        case .extensionUnavailable(let name, let reason):
            "the memory store needs the PostgreSQL extension \(name), and installing it failed (\(reason)):"
                + " ask the database's owner or a superuser to run CREATE EXTENSION \(name); in this database (it is"
                + " one of the contrib modules that ship with PostgreSQL, in Debian's postgresql package), then run"
                + " worker migrate again"
        case .notMigrated(let schema):
            "schema '\(schema)' has not been migrated to this program's version: run migrate first"
        case .invalidMessage(let index, let reason):
            "message \(index) of the batch: \(reason)"
        case .invalidChunkSize(let size):
            "maxChunkChars must be at least 1, got \(size)"
        case .transactionInProgress:
            "the connection is inside a transaction: the memory store runs its own transaction per call"
        case .unexpectedResult(let what):
            "unexpected result from the server: \(what)"
        case .statementTimeout(.query, let limit):
            "the search ran longer than its statement timeout (\(limit)) and the server cancelled it (SQLSTATE 57014)"
        case .statementTimeout(.ingest, let limit):
            "a statement of the ingest batch ran longer than its statement timeout (\(limit)) and the server cancelled"
                + " it (SQLSTATE 57014); the batch was rolled back"
        }
    }
}
