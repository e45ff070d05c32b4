import Foundation
import Postgres

/// Ranked retrieval over one user's messages: Okapi BM25 with the user's own statistics.
///
/// The query text is only ever a bound parameter, parsed by `to_tsvector` with the store's text-search configuration
/// (read from `store_settings`, the one the `tsv` columns were made with), so it is stemmed and loses its stop words
/// exactly as the messages did; nothing in it is SQL or tsquery syntax. Its distinct lexemes are the query terms, and a
/// message matching any of them is a candidate (OR semantics). A query without searchable words (empty, punctuation,
/// stop words only), or whose words the user never used, has no terms and returns no hits.
///
/// The score of a message is the sum over the terms it holds of
/// `idf · tf · (k1 + 1) / (tf + k1 · (1 − b + b · length / average length))`, with `tf` the term's occurrences in the
/// message, `length` the message's tokens, and `idf = ln(1 + (N − df + 0.5) / (df + 0.5))` (never negative, so a
/// word in most messages still counts a little). `N`, the average length and `df` are the user's only
/// (``Migrations/rankingStatistics``): another user's messages change neither the candidates nor their scores.
///
/// Terms are looked up by (user, lexeme) in `lexeme_statistics`; the candidates come from the `messages_tsv` index,
/// through a tsquery built from those lexemes (each quoted, so no lexeme is read as an operator). Each candidate's
/// vector is read once, for its length (the tokens of ``Migrations/rankingStatistics``' `token_count`) and its terms'
/// frequencies together: scoring is most of a search's time, since every message holding any term is a candidate.
enum Searcher {
    /// The search statement for `schema`. Parameters: `$1` user, `$2` query text, `$3` top K, `$4` k1, `$5` b.
    /// Columns: message id, session, source id, position, content, created_at (the ingest time when the message has
    /// none), score (float8); best first, ties by recency then id.
    static func sql(schema: SQLName) -> String {
        let table = { (name: String) in schema.identifier + "." + name }
        return """
            WITH corpus AS (
                SELECT u.document_count::float8 AS documents,
                       u.token_count::float8 / u.document_count AS average_length,
                       $4::float8 AS k1, $5::float8 AS b
                FROM \(table("user_statistics")) AS u
                WHERE u.user_id = $1::text AND u.document_count > 0
            ), terms AS (
                SELECT l.lexeme, ln(1 + (c.documents - l.document_count + 0.5) / (l.document_count + 0.5)) AS idf
                FROM corpus AS c
                CROSS JOIN unnest(tsvector_to_array(to_tsvector(
                    (SELECT s.value::regconfig FROM \(table("store_settings")) AS s
                     WHERE s.name = '\(Migrations.textSearchConfigSetting)'),
                    $2::text))) AS q(lexeme)
                JOIN \(table("lexeme_statistics")) AS l ON l.user_id = $1::text AND l.lexeme = q.lexeme
                WHERE l.document_count > 0
            )
            SELECT m.id, m.session_id, m.source_id, m.position, m.content,
                   coalesce(m.created_at, m.ingested_at) AS created_at, r.score
            FROM corpus AS c
            JOIN \(table("messages")) AS m ON m.tsv @@ (
                SELECT string_agg('''' || replace(replace(t.lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ')::tsquery
                FROM terms AS t)
            CROSS JOIN LATERAL (
                SELECT sum(f.idf * f.tf * (c.k1 + 1) / (f.tf + c.k1 * (1 - c.b + c.b * d.length / c.average_length)))
                           AS score
                FROM (
                    SELECT sum(coalesce(cardinality(v.positions), 1)) AS length,
                           array_agg(coalesce(cardinality(v.positions), 1)) FILTER (WHERE t.idf IS NOT NULL) AS tfs,
                           array_agg(t.idf) FILTER (WHERE t.idf IS NOT NULL) AS idfs
                    FROM unnest(m.tsv) AS v LEFT JOIN terms AS t ON t.lexeme = v.lexeme
                ) AS d
                CROSS JOIN unnest(d.tfs, d.idfs) AS f(tf, idf)
            ) AS r
            WHERE m.user_id = $1::text
            ORDER BY r.score DESC, created_at DESC, m.id DESC
            LIMIT $3::int8
            """
    }

    static func search(
        user: String,
        query: String,
        topK: Int,
        budgetChars: Int?,
        ranking: Ranking,
        sql: String,
        timeout: Duration,
        on connection: PostgresConnection
    ) async throws -> [MemoryHit] {
        // PostgreSQL text cannot hold NUL, so no stored user or word contains one: such a user has no messages, and a
        // NUL in the query separates words like any other non-word character.
        guard topK > 0, !user.utf8.contains(0) else { return [] }
        let queryText = query.utf8.contains(0) ? query.replacing("\u{0}", with: " ") : query
        let result = try await connection.query(
            sql, [user, queryText, topK, ranking.k1, ranking.b], statementTimeout: timeout)
        let hits = try result.rows.enumerated().map { index, row in
            let (id, session, sourceID, position, content, createdAt, score) = try row.decode(
                (Int, String, String?, Int, String, Date?, Double).self)
            return MemoryHit(
                rank: index + 1, score: score, user: user, session: session,
                messages: [MemoryHit.Message(id: id, sourceID: sourceID, position: position)], content: content,
                createdAt: createdAt)
        }
        return budgetChars.map { Array(hits.prefix(withinBudget: $0)) } ?? hits
    }
}
