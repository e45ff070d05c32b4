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
/// (``Migrations/rankingStatistics``): another user's messages change neither the candidates nor their scores. The
/// terms are summed in the order of the query's lexemes, whichever way a message is scored.
///
/// Terms are looked up by (user, lexeme) in `lexeme_statistics`; candidates come from the `messages_user_tsv` index
/// (``Migrations/searchIndexPerUser``) through the user and a tsquery built from those lexemes (each quoted, so no
/// lexeme is read as an operator), so other users' messages with the same words are not read. What a search costs is
/// then mostly what its candidates cost: a common word is in thousands of a user's messages. Two things keep that down.
///
/// - **No candidate that cannot reach the top K is read** (for 2 to ``writtenOutTerms`` terms). A term adds at most
///   its `idf · (k1 + 1) / (1 + k1 · b / average length)` to a score, its ceiling: its weight grows with `tf` and
///   shrinks with `length`, and a message holding a term `tf` times is at least `tf` tokens long (for `b` in 0...1 and
///   `k1 ≥ 0`, which ``Ranking`` is given by the settings). The messages holding every term are scored first; when
///   there are K of them, the K-th best score is a floor the final K-th cannot be below. A message whose terms'
///   ceilings add up to less than the floor scores less than K others, so the other candidates are the messages
///   holding a set of terms whose ceilings reach it, but not every term (those were scored): the tsquery ORs, for
///   each smallest such set, the AND of its terms, and ANDs that with NOT all terms. The best K of both are the hits.
///   Three common words of the bench's 50,000-message user are in 15,274 messages; two of them in 2,390. The floor is
///   lowered by 1e-9 of itself and a set counts as smallest unless it is 1e-6 past the floor without its least
///   term, so rounding can only keep a message, never drop one.
/// - **A candidate is scored by C functions of the core, without a subquery.** `ts_rank(v, q, 2)` is
///   `ts_rank(v, q, 0)` divided, in `float4`, by the vector's tokens (each lexeme's positions, one for a lexeme
///   without any: the length above), so their ratio rounds to that count exactly (its error is below 2^-24 of it,
///   and a vector holds far fewer than 2^23 tokens); it is never 0/0, since a candidate holds a query term. A term's
///   `tf` is the same count over the vector filtered to that term: its positions set to weight A, all others
///   keeping `to_tsvector`'s D, then `ts_filter` to A. The first ``writtenOutTerms`` terms are written out, one
///   expression each (a CASE on the query's number of terms computes only its own); a query with more terms is
///   scored by a subquery over its terms per candidate. On the bench's 50,000-message user (a machine shared with
///   other work), 9,759 candidates of one term took 27 ms, eight terms written out 7 µs a candidate, nine terms 13 µs
///   (the statement before this, 14).
///
/// `OFFSET 0` keeps a subquery that computes a value used more than once from being merged into the query above it,
/// which would compute the value again for every use.
///
/// The statement runs with `jit` off. Its estimated cost grows with the user's messages, and past `jit_above_cost`
/// (100,000 by default, about 170,000 messages of one user) the server would compile its expressions to machine code
/// at every execution: with the threshold lowered to make that happen for the bench's 50,000-message user, a search
/// took 340 to 820 ms instead of 16. A search's candidates are too few for compiled expressions to pay that back.
enum Searcher {
    /// How many query terms are scored by expressions of their own and prune the candidates; the labelled set's
    /// questions have up to 6.
    static let writtenOutTerms = 8

    /// The search statement for `schema`. Parameters: `$1` user, `$2` query text, `$3` top K, `$4` k1, `$5` b.
    /// Columns: message id, session, source id, position, content, created_at (the ingest time when the message has
    /// none), score (float8); best first, ties by recency then id.
    static func sql(schema: SQLName) -> String {
        let table = { (name: String) in schema.identifier + "." + name }
        let quoted = "'''' || replace(replace(t.lexeme, '\\', '\\\\'), '''', '''''') || ''''"
        let slotColumns = slots.map {
            "a.words[\($0)] AS word\($0), a.lexemes[\($0):\($0)] AS lexeme\($0), a.idfs[\($0)] AS idf\($0)"
        }
        return """
            WITH corpus AS (
                SELECT u.document_count::float8 AS documents,
                       u.token_count::float8 / u.document_count AS average_length,
                       $4::float8 AS k1, $5::float8 AS b
                FROM \(table("user_statistics")) AS u
                WHERE u.user_id = $1::text AND u.document_count > 0
            ), terms AS (
                SELECT q.number, l.lexeme,
                       ln(1 + (c.documents - l.document_count + 0.5) / (l.document_count + 0.5)) AS idf
                FROM corpus AS c
                CROSS JOIN unnest(tsvector_to_array(to_tsvector(
                    (SELECT s.value::regconfig FROM \(table("store_settings")) AS s
                     WHERE s.name = '\(Migrations.textSearchConfigSetting)'),
                    $2::text))) WITH ORDINALITY AS q(lexeme, number)
                JOIN \(table("lexeme_statistics")) AS l ON l.user_id = $1::text AND l.lexeme = q.lexeme
                WHERE l.document_count > 0
            ), arrays AS (
                SELECT count(*) AS n,
                       array_agg(t.lexeme ORDER BY t.number) AS lexemes,
                       array_agg(t.idf ORDER BY t.number) AS idfs,
                       array_agg((\(quoted))::tsquery ORDER BY t.number) AS words,
                       array_agg(\(quoted) ORDER BY t.number) AS quoted,
                       array_agg(t.idf * (c.k1 + 1) / (1 + c.k1 * c.b / c.average_length) ORDER BY t.number)
                           AS ceilings,
                       count(*) BETWEEN 2 AND \(writtenOutTerms) AND bool_and(c.k1 >= 0 AND c.b BETWEEN 0 AND 1)
                           AS pruned,
                       string_agg(\(quoted), ' | ' ORDER BY t.number)::tsquery AS any_term,
                       string_agg(\(quoted), ' & ' ORDER BY t.number)::tsquery AS every_term
                FROM terms AS t CROSS JOIN corpus AS c
                HAVING count(*) > 0
            ), query AS (
                SELECT a.*,
                       \(slotColumns.joined(separator: ",\n           "))
                FROM arrays AS a
            ), holding_every_term AS (\(scored(table("messages"), where: "q.pruned AND m.tsv @@ q.every_term"))
            ), threshold AS (
                SELECT CASE WHEN count(*) = $3::int8 THEN min(s.score) * (1 - 1e-9) ELSE 0 END AS score
                FROM holding_every_term AS s
            ), clauses AS (
                SELECT '(' || array_to_string(
                           array(SELECT q.quoted[i] FROM generate_subscripts(q.quoted, 1) AS i
                                 WHERE s.term_set & (1 << (i - 1)) <> 0),
                           ' & ') || ')' AS clause
                FROM query AS q CROSS JOIN threshold AS h
                CROSS JOIN generate_series(1, (1 << least(q.n, \(writtenOutTerms))::int4) - 1) AS s(term_set)
                CROSS JOIN LATERAL (
                    SELECT sum(q.ceilings[i]) AS ceiling, min(q.ceilings[i]) AS least_ceiling
                    FROM generate_subscripts(q.ceilings, 1) AS i
                    WHERE s.term_set & (1 << (i - 1)) <> 0
                ) AS b
                WHERE q.pruned AND b.ceiling >= h.score
                  AND b.ceiling - b.least_ceiling <= h.score * (1 + 1e-6)
            ), candidates AS (
                SELECT CASE WHEN q.pruned
                            THEN coalesce((SELECT string_agg(c.clause, ' | ')::tsquery FROM clauses AS c), q.any_term)
                                 && (!! q.every_term)
                            ELSE q.any_term
                       END AS query
                FROM query AS q
            ), others AS (\(scored(table("messages"), where: "m.tsv @@ (SELECT k.query FROM candidates AS k)"))
            ), best AS (
                SELECT * FROM holding_every_term UNION ALL SELECT * FROM others
                ORDER BY score DESC, created_at DESC, id DESC
                LIMIT $3::int8
            )
            SELECT m.id, m.session_id, m.source_id, m.position, m.content, b.created_at, b.score
            FROM best AS b JOIN \(table("messages")) AS m ON m.id = b.id
            ORDER BY b.score DESC, b.created_at DESC, b.id DESC
            """
    }

    private static var slots: ClosedRange<Int> { 1...writtenOutTerms }

    /// The best `$3` of the user's messages matching `condition` (over `m`, with `q` the query), as id, created_at
    /// and score, best first; see the type's notes.
    private static func scored(_ messages: String, where condition: String) -> String {
        let weights = slots.map { "coalesce(\(weight(idf: "q.idf\($0)", tf: "m.tf\($0)")), 0)" }
        let written = slots.map { count in
            "WHEN \(count) THEN \(weights.prefix(count).joined(separator: " + "))"
        }
        let counts = slots.map {
            "CASE WHEN q.n >= \($0) THEN \(tokens(of: "m.f\($0)", matching: "q.word\($0)")) END AS tf\($0)"
        }
        let filtered = slots.map {
            "CASE WHEN q.n >= \($0) AND m.tsv @@ q.word\($0) THEN ts_filter(setweight(m.tsv, 'A', q.lexeme\($0)), '{a}') END AS f\($0)"
        }
        let termByTerm = """
            (SELECT sum(\(weight(idf: "t.idf", tf: "f.tf")))
                             FROM unnest(q.lexemes, q.idfs, q.words) AS t(lexeme, idf, word)
                             CROSS JOIN LATERAL (
                                 SELECT \(tokens(of: "ts_filter(setweight(m.tsv, 'A', ARRAY[t.lexeme]), '{a}')", matching: "t.word")) AS tf
                             ) AS f
                             WHERE m.tsv @@ t.word)
            """
        return """

                SELECT m.id, m.created_at,
                       CASE q.n
                            \(written.joined(separator: "\n                            "))
                            ELSE \(termByTerm)
                       END AS score
                FROM query AS q CROSS JOIN corpus AS c CROSS JOIN LATERAL (
                    SELECT m.*,
                           \(counts.joined(separator: ",\n                   "))
                    FROM (
                        SELECT m.id, coalesce(m.created_at, m.ingested_at) AS created_at, m.tsv,
                               \(tokens(of: "m.tsv", matching: "q.any_term")) AS length,
                               \(filtered.joined(separator: ",\n                       "))
                        FROM \(messages) AS m
                        WHERE m.user_id = $1::text AND \(condition)
                        OFFSET 0
                    ) AS m
                    OFFSET 0
                ) AS m
                ORDER BY score DESC, m.created_at DESC, m.id DESC
                LIMIT $3::int8
            """
    }

    /// A term's BM25 weight in message `m` (its `length`), with `c` the corpus constants.
    private static func weight(idf: String, tf: String) -> String {
        "\(idf) * \(tf) * (c.k1 + 1) / (\(tf) + c.k1 * (1 - c.b + c.b * m.length / c.average_length))"
    }

    /// The tokens of `vector`, exactly, from two `ts_rank`s of a query it matches; see the type's notes.
    private static func tokens(of vector: String, matching query: String) -> String {
        "round(ts_rank(\(vector), \(query), 0)::float8 / ts_rank(\(vector), \(query), 2)::float8)"
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
            sql, [user, queryText, topK, ranking.k1, ranking.b], statementTimeout: timeout, settings: ["jit": "off"])
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
