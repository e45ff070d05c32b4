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
/// `idf · (tf · (k1 + 1) / (tf + k1 · (1 − b + b · length / average length)))`, with `tf` the term's occurrences in
/// the message, `length` the message's tokens, and `idf = ln(1 + (N − df + 0.5) / (df + 0.5))` (never negative, so a
/// word in most messages still counts a little). `N`, the average length and `df` are the user's only
/// (``Migrations/rankingStatistics``): another user's messages change neither the candidates nor their scores. The
/// terms are summed in the order of the query's lexemes, and the bracket is computed alone, so messages whose scores
/// are equal in exact arithmetic get the same `float8` (with `k1` 0 every bracket is exactly 1) and their tie goes to
/// recency, then id.
///
/// Terms are looked up by (user, lexeme) in `lexeme_statistics`; candidates come from the `messages_user_search_keys`
/// index (``Migrations/searchKeysByShare``), whose keys are a lexeme, the message's share class and a tag of its user:
/// a search asks for its user's keys only (each quoted, so no lexeme is read as an operator), and another user's
/// messages with the same words are read only if their tags collide (one in 2^32 pairs of users), to be dropped by
/// the user condition. What a search costs is then mostly what its candidates cost: a common word is in thousands of
/// a user's messages. Three things keep that down.
///
/// - **No candidate that cannot reach the top K is read** (up to ``writtenOutTerms`` terms, `b` in 0...1 and
///   `k1 ≥ 0`, which ``Ranking`` is given by the settings). A term's weight grows with its share of the message,
///   `tf / length`, and the message's share class bounds that share (see ``Migrations/searchKeysByShare``): in a
///   class whose members have at least `q` tokens per occurrence of any one lexeme, a term weighs at most
///   `idf · (k1 + 1) / (1 + k1 · b · q / average length)` (divide the weight by `tf`, drop `k1 · (1 − b) / tf`, and
///   `length / tf ≥ q`), the class's ceiling for it. First, one index scan per class, the search scores every message
///   holding a term whose ceiling in the message's class is at least the rarest term's at `q` = half the average
///   length: for a single word, the classes below that (about a tenth of a user's messages); for a question, the
///   same for its rarest word and fewer classes for its common ones. When that gives K, the K-th best score is a
///   floor the final K-th cannot be below. A message whose terms' ceilings add up to less than the floor scores less
///   than K others, so the rest are, per class, the messages holding a set of terms whose ceilings reach the floor,
///   and none of the terms that class had scored: the tsquery ORs, for each smallest such set, the AND of its keys,
///   and ANDs that with NOT the scored keys. The best K of both are the hits. The floor is lowered by 1e-9 of itself
///   and a set counts as smallest unless it is 1e-6 past the floor without its least term, so rounding can only keep
///   a message, never drop one.
/// - **One index scan per class.** GIN calls its consistent function with the whole tsquery for every message any
///   of its keys lists, and a tsquery that ORs many keys names no key a message must have, so nothing is skipped: one
///   tsquery for all classes cost 30 ms on the bench's 50,000-message user where scans of one class each cost 0.1 ms
///   apiece. The user's tag in the keys, not a `user_id` column in the index, picks the user: with the column, each
///   scan also walked the user's list of messages (0.5 ms a scan).
/// - **A candidate is scored by C functions of the core, without a subquery.** `ts_rank(v, q, 2)` is
///   `ts_rank(v, q, 0)` divided, in `float4`, by the vector's tokens (each lexeme's positions, one for a lexeme
///   without any: the length above), so their ratio rounds to that count exactly (its error is below 2^-24 of it,
///   and a vector holds far fewer than 2^23 tokens); it is never 0/0, since a candidate holds a query term. A term's
///   `tf` comes from `ts_rank(v, term, 0)` alone: for one term that is `0.1 · Σ 1/j²` over its occurrences (all of
///   weight D, as `to_tsvector` makes them) divided by `π²/6`, a different `float4` for each count up to the 256
///   positions a vector keeps, and `occurrence_ranks()` holds the midpoints between those values as the server
///   computed them when the store was migrated, so `width_bucket` finds the count; a vector without the term ranks
///   0, which is no count. The first ``writtenOutTerms`` terms are written out, one expression each (a CASE on the
///   query's number of terms computes only its own); a query with more terms is scored by a subquery over its terms
///   per candidate.
///
/// Measured on the bench's 50,000-message user, its words alone and in questions of two words and a common third:
/// before the share classes, the slowest twentieth of searches took 58 ms or more, the word in 8,039 messages 33 ms,
/// one of the questions 86 ms; with them, 13 to 20 ms (two runs of the bench), the same searches 9 to 11 ms and 8 to
/// 10 ms.
///
/// `OFFSET 0` keeps a subquery that computes a value used more than once from being merged into the query above it,
/// which would compute the value again for every use.
///
/// The statement runs with `jit` off and a generic plan. Its estimated cost grows with the user's messages, and past
/// `jit_above_cost` (100,000 by default, about 170,000 messages of one user) the server would compile its expressions
/// to machine code at every execution: with the threshold lowered to make that happen for the bench's
/// 50,000-message user, a search took 340 to 820 ms instead of 16. A search's candidates are too few for compiled
/// expressions to pay that back. Planning the statement takes about 8 ms, and with the default `plan_cache_mode` the
/// server planned it again for every execution of the prepared statement (it never found the generic plan cheap
/// enough); the generic plan serves every user and query alike, since the work is in the scans a CTE decides at run
/// time. A statement run unnamed (through a pooler in transaction mode) is planned at every execution regardless.
enum Searcher {
    /// How many query terms are scored by expressions of their own and prune the candidates; the labelled set's
    /// questions have up to 6.
    static let writtenOutTerms = 8

    /// The search statement for `schema`. Parameters: `$1` user, `$2` query text, `$3` top K, `$4` k1, `$5` b.
    /// Columns: message id, session, source id, position, content, created_at (the ingest time when the message has
    /// none), score (float8); best first, ties by recency then id.
    static func sql(schema: SQLName) -> String {
        let table = { (name: String) in schema.identifier + "." + name }
        let quoted = { (text: String) in "'''' || replace(replace(\(text), '\\', '\\\\'), '''', '''''') || ''''" }
        let slotColumns = slots.map {
            "a.words[\($0)] AS word\($0), a.idfs[\($0)] AS idf\($0)"
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
            ), classes AS (
                SELECT f.class,
                       \(Migrations.searchKeySuffix(class: "f.class::int4 - 1", user: "$1::text")) AS suffix,
                       \(classCeiling(floor: "f.floor")) AS ceiling
                FROM corpus AS c CROSS JOIN unnest(\(Migrations.shareClassFloorsSQL)) WITH ORDINALITY AS f(floor, class)
            ), arrays AS (
                SELECT count(*) AS n,
                       array_agg(t.idf ORDER BY t.number) AS idfs,
                       array_agg((\(quoted("t.lexeme")))::tsquery ORDER BY t.number) AS words,
                       count(*) <= \(writtenOutTerms) AND bool_and(c.k1 >= 0 AND c.b BETWEEN 0 AND 1) AS pruned,
                       string_agg(\(quoted("t.lexeme")), ' | ' ORDER BY t.number)::tsquery AS any_term
                FROM terms AS t CROSS JOIN corpus AS c
                HAVING count(*) > 0
            ), query AS (
                SELECT a.*,
                       \(slotColumns.joined(separator: ",\n           "))
                FROM arrays AS a
            ), probe_floor AS (
                SELECT max(t.idf) * min(\(classCeiling(floor: "greatest(4, 2 * c.average_length)"))) AS score
                FROM terms AS t CROSS JOIN corpus AS c
            ), class_keys AS (
                SELECT k.class, k.ceiling, array_agg(\(quoted("x.key")) ORDER BY t.number) AS keys,
                       string_agg(\(quoted("x.key")), ' | ' ORDER BY t.number) FILTER (WHERE t.idf * k.ceiling >= p.score)
                           AS probed_keys
                FROM terms AS t CROSS JOIN classes AS k CROSS JOIN probe_floor AS p
                CROSS JOIN LATERAL (
                    SELECT (tsvector_to_array(array_to_tsvector(ARRAY[t.lexeme || k.suffix])))[1] AS key
                ) AS x
                GROUP BY k.class, k.ceiling
            ), term_sets AS (
                SELECT s.term_set, b.idf, b.least_idf
                FROM query AS q
                CROSS JOIN generate_series(1, (1 << least(q.n, \(writtenOutTerms))::int4) - 1) AS s(term_set)
                CROSS JOIN LATERAL (
                    SELECT sum(q.idfs[i]) AS idf, min(q.idfs[i]) AS least_idf
                    FROM generate_subscripts(q.idfs, 1) AS i
                    WHERE s.term_set & (1 << (i - 1)) <> 0
                ) AS b
                WHERE q.pruned
            ), bounds AS (
                SELECT k.class, k.keys, k.probed_keys, t.term_set, t.idf * k.ceiling AS ceiling,
                       t.least_idf * k.ceiling AS least_ceiling
                FROM class_keys AS k CROSS JOIN term_sets AS t
            ), probes AS (
                SELECT k.probed_keys::tsquery AS keys
                FROM query AS q CROSS JOIN class_keys AS k
                WHERE q.pruned AND k.probed_keys IS NOT NULL
            ), probed AS (\(scored(schema, scanning: "probes"))
            ), threshold AS (
                SELECT CASE WHEN count(*) = $3::int8 THEN min(s.score) * (1 - 1e-9) ELSE 0 END AS score
                FROM probed AS s
            ), clauses AS (
                SELECT b.class, string_agg(\(clause("b")), ' | ') AS keys, min(b.probed_keys) AS probed_keys
                FROM bounds AS b CROSS JOIN threshold AS h
                WHERE b.ceiling >= h.score AND b.ceiling - b.least_ceiling <= h.score * (1 + 1e-6)
                GROUP BY b.class
            ), candidates AS (
                SELECT (coalesce('(' || c.keys || ') & !(' || c.probed_keys || ')', c.keys))::tsquery AS keys
                FROM clauses AS c
                UNION ALL
                SELECT array_to_string(k.keys, ' | ')::tsquery
                FROM query AS q CROSS JOIN class_keys AS k
                WHERE NOT q.pruned
            ), others AS (\(scored(schema, scanning: "candidates"))
            ), best AS (
                SELECT * FROM probed UNION ALL SELECT * FROM others
                ORDER BY score DESC, created_at DESC, id DESC
                LIMIT $3::int8
            )
            SELECT m.id, m.session_id, m.source_id, m.position, m.content, b.created_at, b.score
            FROM best AS b JOIN \(table("messages")) AS m ON m.id = b.id
            ORDER BY b.score DESC, b.created_at DESC, b.id DESC
            """
    }

    private static var slots: ClosedRange<Int> { 1...writtenOutTerms }

    /// The tsquery text asking for every key of row `bound`'s term set, in its class.
    private static func clause(_ bound: String) -> String {
        """
        '(' || array_to_string(array(SELECT \(bound).keys[i] FROM generate_subscripts(\(bound).keys, 1) AS i
                                     WHERE \(bound).term_set & (1 << (i - 1)) <> 0), ' & ') || ')'
        """
    }

    /// The best `$3` of the user's messages whose search keys match any of the tsqueries in `source`'s column `keys`
    /// (each its own index scan; no message matches two), with `q` the query, as id, created_at and score, best
    /// first; see the type's notes.
    private static func scored(_ schema: SQLName, scanning source: String) -> String {
        let occurrences = { (word: String) in
            "width_bucket(nullif(ts_rank(m.tsv, \(word), 0), 0)::float8, \(schema.identifier).occurrence_ranks()) + 1"
        }
        let weights = slots.map { "coalesce(\(weight(idf: "q.idf\($0)", tf: "m.tf\($0)")), 0)" }
        let written = slots.map { count in
            "WHEN \(count) THEN \(weights.prefix(count).joined(separator: " + "))"
        }
        let counts = slots.map { "CASE WHEN q.n >= \($0) THEN \(occurrences("q.word\($0)")) END AS tf\($0)" }
        let termByTerm = """
            (SELECT sum(\(weight(idf: "t.idf", tf: "f.tf")))
                             FROM unnest(q.idfs, q.words) AS t(idf, word)
                             CROSS JOIN LATERAL (SELECT \(occurrences("t.word")) AS tf) AS f)
            """
        return """

                SELECT m.id, m.created_at,
                       CASE q.n
                            \(written.joined(separator: "\n                            "))
                            ELSE \(termByTerm)
                       END AS score
                FROM query AS q CROSS JOIN corpus AS c CROSS JOIN \(source) AS k CROSS JOIN LATERAL (
                    SELECT m.id, coalesce(m.created_at, m.ingested_at) AS created_at, m.tsv,
                           \(tokens(of: "m.tsv", matching: "q.any_term")) AS length,
                           \(counts.joined(separator: ",\n                   "))
                    FROM \(schema.identifier).messages AS m
                    WHERE \(searchKeys(schema, match: "k.keys")) AND (m.user_id = $1::text) IS TRUE
                    OFFSET 0
                ) AS m
                ORDER BY score DESC, m.created_at DESC, m.id DESC
                LIMIT $3::int8
            """
    }

    /// The condition the search index answers: the message's keys (``Migrations/searchKeysByShare``) match `query`.
    /// The keys carry the user's tag, so the user's own condition only drops the messages of a user whose tag
    /// collides; it is written `IS TRUE` so the planner cannot answer it from a btree on `user_id` as well and AND the
    /// user's thousands of entries into every scan's bitmap (a generic plan did, at 0.4 ms a scan).
    private static func searchKeys(_ schema: SQLName, match query: String) -> String {
        "\(schema.identifier).search_keys(m.user_id, m.tsv) @@ \(query)"
    }

    /// The most a term can weigh in a message of the share class whose lower bound is `floor` (in quarters), with
    /// `c` the corpus constants; see the type's notes.
    static func classCeiling(floor: String) -> String {
        "(c.k1 + 1) / (1 + c.k1 * c.b * \(floor) / 4 / c.average_length)"
    }

    /// A term's BM25 weight in message `m` (its `length`), with `c` the corpus constants.
    private static func weight(idf: String, tf: String) -> String {
        "\(idf) * (\(tf) * (c.k1 + 1) / (\(tf) + c.k1 * (1 - c.b + c.b * m.length / c.average_length)))"
    }

    /// The tokens of `vector`, exactly, from two `ts_rank`s of a query it matches; see the type's notes.
    private static func tokens(of vector: String, matching query: String) -> String {
        "round(ts_rank(\(vector), \(query), 0)::float8 / ts_rank(\(vector), \(query), 2)::float8)"
    }

    /// The settings the statement runs with, for itself alone; see the type's notes.
    static let settings: KeyValuePairs<String, String> = ["jit": "off", "plan_cache_mode": "force_generic_plan"]

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
            sql, [user, queryText, topK, ranking.k1, ranking.b], statementTimeout: timeout, settings: Self.settings)
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
