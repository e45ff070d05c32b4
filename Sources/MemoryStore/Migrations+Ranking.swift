extension Migrations {
    /// Messages become the unit of retrieval, ranked by Okapi BM25 over each user's own statistics (see ``Searcher``).
    ///
    /// - `user_statistics`: per user, how many messages and how many tokens (lexeme occurrences, stop words left out)
    ///   they hold, for the average document length.
    /// - `lexeme_statistics`: per user and lexeme, in how many of the user's messages it occurs, for its inverse
    ///   document frequency. Keyed by user first, so a search reads only its own user's rows.
    /// - `count_new_messages`: a statement-level trigger that adds the messages a statement stored (its transition
    ///   table: the rows the COPY or the INSERT actually inserted, duplicates skipped by `ON CONFLICT` excluded) to
    ///   both, set-wise, inside the ingest's transaction: a rolled-back batch takes its counts with it, and a re-run
    ///   inserts nothing and counts nothing. Rows are upserted in key order, so two batches lock them in one order.
    ///   Users come first: a batch waits on a user's row before it touches that user's lexemes. (Only a batch that
    ///   both COPYs and INSERTs, for several users, locks users in two statements; should two such batches deadlock,
    ///   the server aborts one and the worker retries it.)
    /// - `messages_tsv`: the index the search's match runs on. `chunks_tsv` goes: chunks are no longer searched,
    ///   and every ingest paid for keeping it.
    ///
    /// The statistics of the messages stored so far are computed here once, so an upgraded store ranks as one that
    /// was filled after the upgrade.
    static let rankingStatistics = Migration(version: 4, description: "BM25 statistics per user; messages searched") {
        names in
        let messages = names.table("messages")
        let users = names.table("user_statistics")
        let lexemes = names.table("lexeme_statistics")
        let length = names.table("token_count")
        let add = names.table("add_statistics")
        return """
            CREATE TABLE \(users) (
                user_id        text PRIMARY KEY,
                document_count bigint NOT NULL CHECK (document_count >= 0),
                token_count    bigint NOT NULL CHECK (token_count >= 0)
            );
            CREATE TABLE \(lexemes) (
                user_id        text NOT NULL,
                lexeme         text NOT NULL,
                document_count bigint NOT NULL CHECK (document_count >= 0),
                PRIMARY KEY (user_id, lexeme)
            );

            -- A message's length in tokens: each lexeme counts as often as it occurs (a vector without positions, once).
            CREATE FUNCTION \(length)(tsvector) RETURNS bigint
                LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS $body$ SELECT coalesce(sum(coalesce(cardinality(t.positions), 1)), 0) FROM unnest($1) AS t $body$;

            CREATE FUNCTION \(add)() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                INSERT INTO \(users) AS s (user_id, document_count, token_count)
                SELECT n.user_id, count(*), sum(\(length)(n.tsv))
                FROM new_messages AS n
                GROUP BY n.user_id
                ORDER BY n.user_id
                ON CONFLICT (user_id) DO UPDATE
                    SET document_count = s.document_count + excluded.document_count,
                        token_count = s.token_count + excluded.token_count;
                INSERT INTO \(lexemes) AS s (user_id, lexeme, document_count)
                SELECT n.user_id, l.lexeme, count(*)
                FROM new_messages AS n CROSS JOIN unnest(tsvector_to_array(n.tsv)) AS l(lexeme)
                GROUP BY n.user_id, l.lexeme
                ORDER BY n.user_id, l.lexeme
                ON CONFLICT (user_id, lexeme) DO UPDATE SET document_count = s.document_count + excluded.document_count;
                RETURN NULL;
            END
            $body$;
            CREATE TRIGGER count_new_messages AFTER INSERT ON \(messages)
                REFERENCING NEW TABLE AS new_messages
                FOR EACH STATEMENT EXECUTE FUNCTION \(add)();

            INSERT INTO \(users) (user_id, document_count, token_count)
            SELECT m.user_id, count(*), sum(\(length)(m.tsv)) FROM \(messages) AS m GROUP BY m.user_id;
            INSERT INTO \(lexemes) (user_id, lexeme, document_count)
            SELECT m.user_id, l.lexeme, count(*)
            FROM \(messages) AS m CROSS JOIN unnest(tsvector_to_array(m.tsv)) AS l(lexeme)
            GROUP BY m.user_id, l.lexeme;

            CREATE INDEX messages_tsv ON \(messages) USING gin (tsv);
            DROP INDEX \(names.schema.identifier).chunks_tsv;
            """
    }
}
