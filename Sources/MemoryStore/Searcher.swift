import Foundation
import Postgres

/// Ranked full-text retrieval over one user's chunks.
///
/// The query text is only ever a bound parameter, parsed by `websearch_to_tsquery`, which never fails on syntax:
/// tsquery operators, quotes, backslashes and SQL in the text are just words (or nothing) to it. A query without
/// searchable words (empty, punctuation, stop words only) gives an empty tsquery, which matches no chunk.
///
/// The text-search configuration is read from `store_settings`, the one the `tsv` columns were made with, so a
/// store configured differently (or the benchmark, running this SQL alone) cannot parse the query in another one.
enum Searcher {
    /// The search statement for `schema`. Parameters: `$1` user, `$2` query text, `$3` top K. Columns: chunk id,
    /// session, content, created_at, score (`ts_rank_cd`, float8); best first, ties by recency then id.
    static func sql(schema: SQLName) -> String {
        """
        SELECT c.id, c.session_id, c.content, c.created_at, ts_rank_cd(c.tsv, q.query)::float8 AS score
        FROM websearch_to_tsquery(
                 (SELECT s.value::regconfig FROM \(schema.identifier).store_settings AS s
                  WHERE s.name = '\(Migrations.textSearchConfigSetting)'),
                 $2::text) AS q(query)
        JOIN \(schema.identifier).chunks AS c ON c.tsv @@ q.query
        WHERE c.user_id = $1::text
        ORDER BY score DESC, c.created_at DESC, c.id DESC
        LIMIT $3::int8
        """
    }

    static func search(
        user: String,
        query: String,
        topK: Int,
        sql: String,
        timeout: Duration,
        on connection: PostgresConnection
    ) async throws -> [MemoryHit] {
        // PostgreSQL text cannot hold NUL, so no stored user or word contains one: such a user has no chunks, and a
        // NUL in the query separates words like any other non-word character.
        guard topK > 0, !user.utf8.contains(0) else { return [] }
        let queryText = query.utf8.contains(0) ? query.replacing("\u{0}", with: " ") : query
        let result = try await connection.query(sql, [user, queryText, topK], statementTimeout: timeout)
        return try result.rows.enumerated().map { index, row in
            let (id, session, content, createdAt, score) = try row.decode((Int, String, String, Date?, Double).self)
            return MemoryHit(
                rank: index + 1, score: score, chunkID: id, session: session, content: content, createdAt: createdAt)
        }
    }
}
