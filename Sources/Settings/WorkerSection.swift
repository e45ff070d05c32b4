/// The keys of the `worker:` section (and their `WORKER_*` variables), validated and typed. What each accepts and its
/// default are its row in the settings table (``SettingKey/definition``).
public struct WorkerSection: Sendable, Equatable {
    /// Tasks per job, for jobs that set no `concurrency` (`worker.concurrency`).
    public var concurrency: Int
    /// Jobs running at the same time (`worker.parallel_jobs`).
    public var parallelJobs: Int
    /// The PostgreSQL schema of the memory store (`worker.store_schema`); a plain lower-case identifier.
    public var storeSchema: String
    /// The store's full-text configuration (`worker.text_search_config`); a plain lower-case identifier.
    public var textSearchConfig: String
    /// How long running units may finish after a signal (`worker.shutdown_grace`).
    public var shutdownGrace: Duration
    /// Tries per unit, the first included (`worker.retry.attempts`).
    public var retryAttempts: Int
    /// Delay before the first retry (`worker.retry.initial_delay`).
    public var retryInitialDelay: Duration
    /// Longest delay between tries (`worker.retry.max_delay`).
    public var retryMaxDelay: Duration
    /// Characters a query may have (`worker.query_max_chars`).
    public var queryMaxChars: Int
    /// Words a query may have (`worker.query_max_words`).
    public var queryMaxWords: Int
    /// `statement_timeout` of a query's search; zero sets none (`worker.query_timeout`).
    public var queryTimeout: Duration
    /// `statement_timeout` of each statement of an ingest batch; zero sets none (`worker.ingest_timeout`).
    public var ingestTimeout: Duration
    /// BM25 k1 of the search (`worker.bm25_k1`).
    public var bm25K1: Double
    /// BM25 b of the search (`worker.bm25_b`).
    public var bm25B: Double
    /// The Prometheus text file written at the end of every run (`worker.metrics_file`); nil, also when set empty,
    /// for none.
    public var metricsFile: String?
    /// How long a claimed queued job may go without a heartbeat before another drain may take it
    /// (`worker.queue.visibility_timeout`).
    public var queueVisibilityTimeout: Duration
    /// Tries per queued job, the first included (`worker.queue.max_attempts`).
    public var queueMaxAttempts: Int
    /// Delay before a queued job's second try (`worker.queue.retry_delay`).
    public var queueRetryDelay: Duration
    /// How often an idle drain looks for work (`worker.queue.poll_interval`).
    public var queuePollInterval: Duration
    /// How long a run's batch lock stays taken without a heartbeat (`worker.lock.lease`).
    public var lockLease: Duration

    init(_ values: ResolvedKeys) {
        concurrency = values.number(.concurrency)
        parallelJobs = values.number(.parallelJobs)
        storeSchema = values.text(.storeSchema)
        textSearchConfig = values.text(.textSearchConfig)
        shutdownGrace = values.duration(.shutdownGrace)
        retryAttempts = values.number(.retryAttempts)
        retryInitialDelay = values.duration(.retryInitialDelay)
        retryMaxDelay = values.duration(.retryMaxDelay)
        queryMaxChars = values.number(.queryMaxChars)
        queryMaxWords = values.number(.queryMaxWords)
        queryTimeout = values.duration(.queryTimeout)
        ingestTimeout = values.duration(.ingestTimeout)
        bm25K1 = values.decimal(.bm25K1)
        bm25B = values.decimal(.bm25B)
        let metricsFile = values.text(.metricsFile)
        self.metricsFile = metricsFile.isEmpty ? nil : metricsFile
        queueVisibilityTimeout = values.duration(.queueVisibilityTimeout)
        queueMaxAttempts = values.number(.queueMaxAttempts)
        queueRetryDelay = values.duration(.queueRetryDelay)
        queuePollInterval = values.duration(.queuePollInterval)
        lockLease = values.duration(.lockLease)
    }
}
