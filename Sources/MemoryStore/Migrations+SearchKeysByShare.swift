extension Migrations {
    /// The search index files each word of a message under the message's user and share class, so a search reads
    /// only its user's messages where its words can weigh enough to reach the top K (see ``Searcher``).
    ///
    /// A term's BM25 weight in a message grows with the term's share of the message's tokens (`tf / length`). The most
    /// any lexeme of a message can occur is `T = length − distinct lexemes + 1`, so no term's share exceeds
    /// `T / length`. The message's share class is `floor(4 · length / T)` bucketed by ``shareClassBounds``, and
    /// `search_keys(user_id, tsv)` is the vector's lexemes each followed by `chr(1)`, the class's letter and the
    /// first 8 hex digits of the user's md5: "dough" in a class-E message of a user whose md5 starts 3f2a09c1 is the
    /// key "dough\u{1}E3f2a09c1". `messages_user_search_keys`, a GIN index over those keys, replaces
    /// `messages_user_tsv` (over user and vector): as many keys, one posting list per user, word and class. A search
    /// asks for its user's word in the classes it needs, and so reads only those messages; two users share keys only
    /// when their tags collide (one pair in 2^32), and the search drops the other user's messages then. Without the
    /// `user_id` column, a scan no longer walks the user's whole list of messages (0.5 ms a scan for the bench's
    /// 50,000-message user), which mattered once a search makes one scan per class. No lexeme of a parsed text holds a
    /// control character (the parser splits words there), so appending and splitting at `chr(1)` and `chr(2)` never
    /// meets one. md5 is the hash because it never changes between server versions; a stored key must match the one
    /// a search makes years later.
    ///
    /// Only C functions run per message, so the server inlines the plain SQL function (no `STRICT`) into the index
    /// expression and the search's condition alike. The length comes from `tsvectorsend`, which writes each position
    /// as two bytes where a stripped vector has none; it converts lexemes to the client's encoding, but both vectors
    /// convert the same lexemes, so the difference is the same in any encoding (and the worker's connections are
    /// UTF-8). Measured over the bench's 50,000-message user: the keys cost about 5 µs a message, where parsing the
    /// text costs 10; a psql `\copy` into the same table pays them too.
    ///
    /// A lexeme of over 2,037 bytes (a parse keeps up to 2,046) plus the ten bytes is longer than a vector may hold,
    /// and `array_to_tsvector` keeps such a key's length modulo 2,048 without complaint; the search makes its keys
    /// with the same function, so it asks for the same shortened key (which may find more messages, never fewer).
    ///
    /// `occurrence_ranks()` is the table the search reads a term's occurrences from (see ``Searcher``): the midpoints
    /// between `ts_rank` of a lexeme said 1, 2, …, 256 times, as this server computes them, written into the
    /// function's body as a constant so a search pays nothing for it.
    static let searchKeysByShare = Migration(version: 7, description: "search index keyed by word and share class") {
        names in
        let tokens = "(octet_length(tsvectorsend(v)) - octet_length(tsvectorsend(strip(v)))) / 2"
        return """
            CREATE FUNCTION \(names.table("search_keys"))(u text, v tsvector) RETURNS tsvector
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                AS $body$
                    SELECT array_to_tsvector(string_to_array(rtrim(replace(
                        array_to_string(tsvector_to_array(v), chr(2)) || chr(2),
                        chr(2),
                        \(searchKeySuffix(
                            class: "width_bucket(4 * (\(tokens)) / greatest(\(tokens) - length(v) + 1, 1), \(sqlArray(shareClassBounds)))",
                            user: "u")) || chr(2)), chr(2)), chr(2)))
                $body$;
            DO $do$
            BEGIN
                EXECUTE format(
                    'CREATE FUNCTION %I.occurrence_ranks() RETURNS float8[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
                    \(names.schema.literal),
                    'SELECT ' || quote_literal((
                        SELECT array_agg((r.rank + r.next) / 2 ORDER BY r.n)
                        FROM (
                            SELECT n, rank, lead(rank) OVER (ORDER BY n) AS next
                            FROM generate_series(1, 256) AS n
                            CROSS JOIN LATERAL (
                                SELECT ts_rank(('a:' || (SELECT string_agg(i::text, ',') FROM generate_series(1, n) AS i))
                                               ::tsvector, 'a'::tsquery, 0)::float8 AS rank
                            ) AS x
                        ) AS r
                        WHERE r.next IS NOT NULL
                    )::text) || '::float8[]');
            END
            $do$;
            CREATE INDEX messages_user_search_keys ON \(names.table("messages"))
                USING gin (\(names.table("search_keys"))(user_id, tsv));
            DROP INDEX \(names.schema.identifier).messages_user_tsv;
            """
    }

    /// The share classes' lower bounds, in quarter tokens of length per occurrence of the most repeated lexeme: class
    /// 0 (A) is below 5 (one lexeme may be more than four fifths of the message), class 1 (B) from 5 to 6, …, the last
    /// (Y) from 256 up. Steps of about a quarter keep a class's bound close to its members' own, which is what prunes.
    static let shareClassBounds = [
        5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256,
    ]

    /// Every class's lower bound as an SQL array, class 0's (4: one lexeme may be the whole message) first, so the
    /// class numbered from 1 indexes its own.
    static let shareClassFloorsSQL = sqlArray([4] + shareClassBounds)

    /// What follows a lexeme in its search key: `chr(1)`, the letter of share class `class` (0 is A), the first 8 hex
    /// digits of `user`'s md5. The index's function and the search both build keys with it, so they cannot drift.
    static func searchKeySuffix(class: String, user: String) -> String {
        "chr(1) || chr(65 + \(`class`)) || left(md5(\(user)), 8)"
    }

    private static func sqlArray(_ values: [Int]) -> String {
        "'{" + values.map(String.init).joined(separator: ",") + "}'::int4[]"
    }
}
