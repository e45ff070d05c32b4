/// How long the server lets one statement of each kind run before it cancels it (`statement_timeout`).
///
/// Set by the server, not the client, so a statement whose worker died (`kill -9`) or hung ends on its own instead of
/// holding a backend and its locks. The defaults are far above what a normal batch's statements take. Zero sets no
/// timeout, and the server's own `statement_timeout` applies.
public struct StatementTimeouts: Sendable, Equatable {
    /// A query's search statement, its preparation included.
    public var query: Duration
    /// Each statement of an ingest batch's transaction (the COPY and the COMMIT included).
    public var ingest: Duration

    public init(query: Duration = .seconds(30), ingest: Duration = .seconds(300)) {
        self.query = query
        self.ingest = ingest
    }

    /// The statements each timeout bounds.
    public enum Kind: String, Sendable, Equatable {
        case query
        case ingest
    }

    subscript(kind: Kind) -> Duration {
        switch kind {
        case .query: query
        case .ingest: ingest
        }
    }
}
