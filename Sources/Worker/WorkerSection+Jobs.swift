import Batch
import Jobs
import MemoryStore
import Settings

/// The `worker:` settings as the types of the modules they configure.
extension WorkerSection {
    /// The store named by `worker.store_schema` and `worker.text_search_config`, bounded by the statement timeouts,
    /// ranking by `worker.bm25_k1` and `worker.bm25_b`.
    var memoryStore: MemoryStore {
        MemoryStore(
            schema: storeSchema, textSearchConfig: textSearchConfig,
            timeouts: StatementTimeouts(query: queryTimeout, ingest: ingestTimeout),
            ranking: Ranking(k1: bm25K1, b: bm25B))
    }

    /// `worker.retry`.
    var retryPolicy: RetryPolicy {
        RetryPolicy(attempts: retryAttempts, initialDelay: retryInitialDelay, maximumDelay: retryMaxDelay)
    }

    /// `worker.query_max_chars` and `worker.query_max_words`.
    var queryLimits: QueryLimits {
        QueryLimits(maxCharacters: queryMaxChars, maxWords: queryMaxWords)
    }
}
