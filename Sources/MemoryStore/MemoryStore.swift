import Foundation
import Postgres

/// Conversation memory in PostgreSQL: messages stored idempotently, cut into chunks per session, and searched with
/// ranked full-text retrieval, one user at a time.
///
/// A store is a schema name, a text-search configuration and the statement timeouts of its calls; it holds no
/// connection. Every call takes the connection to use and runs in its own transaction, so a store can be shared by
/// any number of tasks, each with its own connection.
public struct MemoryStore: Sendable {
    /// The PostgreSQL schema (namespace) holding the tables.
    public let schema: String
    /// The text-search configuration the schema is created with (`english`, `simple`, ...).
    public let textSearchConfig: String
    /// How long the server lets a search, or a statement of an ingest, run.
    let timeouts: StatementTimeouts
    /// The constants of the search's BM25 score.
    let ranking: Ranking

    /// The names, checked once; a bad name is reported by every call (and by ``validate()``), so creating a store
    /// never fails.
    private let names: Result<StoreNames, MemoryStoreError>

    /// `schema` and `textSearchConfig` must be plain lower-case identifiers (`[a-z_][a-z0-9_]*`), because they are
    /// written into DDL; anything else is refused by ``validate()`` and by every call.
    public init(
        schema: String = "memory", textSearchConfig: String = "english",
        timeouts: StatementTimeouts = StatementTimeouts(), ranking: Ranking = Ranking()
    ) {
        self.schema = schema
        self.textSearchConfig = textSearchConfig
        self.timeouts = timeouts
        self.ranking = ranking
        names = Result { () throws(MemoryStoreError) in
            try StoreNames(schema: schema, textSearchConfig: textSearchConfig)
        }
    }

    /// Throws ``MemoryStoreError/invalidName(kind:value:)`` if the schema or configuration name is not usable, so a
    /// program can refuse a bad setting at start-up rather than at its first batch.
    public func validate() throws(MemoryStoreError) {
        _ = try names.get()
    }

    /// Creates or upgrades the schema: applies the versions it lacks, in one transaction under an advisory lock, so
    /// concurrent callers apply each version once. Re-running is a no-op. Fails with
    /// ``MemoryStoreError/textSearchConfigMismatch(schema:recorded:requested:)`` when the schema exists with another
    /// text-search configuration.
    @discardableResult
    public func migrate(on connection: PostgresConnection) async throws -> MigrationReport {
        try await Migrator(names: names.get()).migrate(on: connection)
    }

    /// Stores `messages` (one transaction) and rebuilds the chunks of the sessions that gained any.
    ///
    /// Messages already stored (the same ``MemoryMessage`` identity) are skipped and counted as duplicates, so a batch
    /// can be re-run after a failure, and files cut differently store each message once. Chunks are consecutive
    /// messages of a session, in conversation order, joined with "\n", up to `maxChunkChars` characters each (a longer
    /// message is a chunk alone); they do not depend on how the messages were batched or in which order batches ran. Use one `maxChunkChars` per schema: a session touched with another
    /// value is re-chunked with it.
    ///
    /// Each statement of the transaction runs under ``StatementTimeouts/ingest``; one that runs longer fails the
    /// call with ``MemoryStoreError/statementTimeout(_:limit:)`` and the batch is rolled back.
    @discardableResult
    public func ingest(_ messages: [MemoryMessage], maxChunkChars: Int, on connection: PostgresConnection)
        async throws -> IngestResult
    {
        let ingestor = try Ingestor(names: names.get(), statementTimeout: timeouts.ingest)
        return try await Self.explainingMissingObjects(schema: schema) {
            try await explainingTimeout(.ingest) {
                try await ingestor.ingest(messages, maxChunkChars: maxChunkChars, on: connection)
            }
        }
    }

    /// The `topK` messages of `user` that best match `query`, best first, cut before the first hit that would take
    /// their text past `budgetChars` characters (code points, as PostgreSQL counts them) when that is given (Okapi BM25 with ``Ranking``, over the
    /// user's own statistics; ties: newest first). See ``Searcher``.
    ///
    /// `query` is plain text: any of its words may match, after the store's text-search configuration has stemmed
    /// them and dropped stop words. Nothing in it is SQL or tsquery syntax. A query with no searchable words returns
    /// no hits.
    ///
    /// The statement runs under ``StatementTimeouts/query``; past it the call fails with
    /// ``MemoryStoreError/statementTimeout(_:limit:)``.
    public func search(
        user: String, query: String, topK: Int, budgetChars: Int? = nil, on connection: PostgresConnection
    ) async throws -> [MemoryHit] {
        let sql = try Searcher.sql(schema: names.get().schema)
        return try await Self.explainingMissingObjects(schema: schema) {
            try await explainingTimeout(.query) {
                try await Searcher.search(
                    user: user, query: query, topK: topK, budgetChars: budgetChars, ranking: ranking, sql: sql,
                    timeout: timeouts.query, on: connection)
            }
        }
    }

    /// The search statement for the default schema `memory`, as ``search(user:query:topK:on:)`` runs it (for
    /// benchmarks such as pgbench). Parameters: `$1` user, `$2` query text, `$3` top K, `$4` k1, `$5` b. Columns:
    /// message id, session, source id, position, content, created_at, score.
    package static let searchSQL = Searcher.sql(schema: .defaultSchema)

    /// The settings ``search(user:query:topK:on:)`` gives its statement alone, each with `set_config(…, true)` sent in
    /// one pipeline with it.
    package static let searchSettings = Searcher.settings

    /// The search statement for this store's schema; see ``searchSQL``.
    package func searchSQL() throws(MemoryStoreError) -> String {
        try Searcher.sql(schema: names.get().schema)
    }

    /// Turns "relation, column or function does not exist" into ``MemoryStoreError/notMigrated(schema:)``: the store's
    /// own statements name only objects its migrations create, so the cause is a schema never migrated, or migrated
    /// only by an older program (version 1 lacks `messages.tsv` and `tsvector_agg`, version 3 the statistics).
    private static func explainingMissingObjects<Value>(schema: String, _ body: () async throws -> Value)
        async throws -> Value
    {
        do {
            return try await body()
        } catch let error as PostgresServerError where missingObjectStates.contains(error.sqlState) {
            throw MemoryStoreError.notMigrated(schema: schema)
        }
    }

    /// Turns the server's cancel of a statement that outran its timeout into ``MemoryStoreError/statementTimeout``.
    ///
    /// A cancel is SQLSTATE 57014 whoever asked for it; it is the timeout's only when this task was not cancelled (a
    /// cancelled task sends a cancel request of its own) and the call took at least the timeout, which the server's
    /// timer cannot beat. An administrator's `pg_cancel_backend` before that keeps the server's own error.
    private func explainingTimeout<Value>(_ kind: StatementTimeouts.Kind, _ body: () async throws -> Value)
        async throws -> Value
    {
        let limit = timeouts[kind]
        let start = ContinuousClock.now
        do {
            return try await body()
        } catch let error as PostgresServerError
            where error.sqlState == PostgresServerError.Code.queryCanceled && limit > .zero && !Task.isCancelled
            && ContinuousClock.now - start >= limit
        {
            throw MemoryStoreError.statementTimeout(kind, limit: limit)
        }
    }

    private static let missingObjectStates: Set = [
        PostgresServerError.Code.undefinedTable, PostgresServerError.Code.undefinedColumn,
        PostgresServerError.Code.undefinedFunction,
    ]
}
