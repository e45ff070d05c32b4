import Batch
import Jobs
import MemoryStore
import Settings

/// The `worker:` settings as the types of the modules they configure.
extension WorkerSection {
    /// The store named by `worker.store_schema` and `worker.text_search_config`, bounded by the statement timeouts.
    var memoryStore: MemoryStore {
        MemoryStore(
            schema: storeSchema, textSearchConfig: textSearchConfig,
            timeouts: StatementTimeouts(query: queryTimeout, ingest: ingestTimeout))
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
