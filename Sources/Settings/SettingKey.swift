/// Every key the worker reads, in the order `worker config` lists them; what each accepts, its default and what it
/// does are its row in ``SettingKey/definition``.
///
/// The raw values are the spellings inside the key's section of `config.yaml` (`retry.attempts` is `attempts:` under
/// `retry:`); the environment spells them upper-cased after the section (`pool_size` → `POSTGRES_POOL_SIZE`,
/// `retry.attempts` → `WORKER_RETRY_ATTEMPTS`).
enum SettingKey: String, CaseIterable, Sendable {
    case url
    case host
    case port
    case database
    case user
    case password
    case sslmode
    case sslrootcert
    case applicationName = "application_name"
    case connectionTimeout = "connection_timeout"
    case keepalivesIdle = "keepalives_idle"
    case keepalivesInterval = "keepalives_interval"
    case keepalivesCount = "keepalives_count"
    case preparedStatements = "prepared_statements"
    case poolSize = "pool_size"
    case maxOverflow = "max_overflow"
    case poolTimeout = "pool_timeout"
    case poolRecycle = "pool_recycle"
    case idleTimeout = "idle_timeout"
    case leakThreshold = "leak_threshold"
    case idleCheckAfter = "idle_check_after"
    case concurrency
    case parallelJobs = "parallel_jobs"
    case storeSchema = "store_schema"
    case textSearchConfig = "text_search_config"
    case shutdownGrace = "shutdown_grace"
    case retryAttempts = "retry.attempts"
    case retryInitialDelay = "retry.initial_delay"
    case retryMaxDelay = "retry.max_delay"
    case queryMaxChars = "query_max_chars"
    case queryMaxWords = "query_max_words"
    case queryTimeout = "query_timeout"
    case ingestTimeout = "ingest_timeout"
    case bm25K1 = "bm25_k1"
    case bm25B = "bm25_b"
    case metricsFile = "metrics_file"
    case queueVisibilityTimeout = "queue.visibility_timeout"
    case queueMaxAttempts = "queue.max_attempts"
    case queueRetryDelay = "queue.retry_delay"
    case queuePollInterval = "queue.poll_interval"
    case lockLease = "lock.lease"

    /// Keys that become libpq keywords, `url` aside.
    static let connectionKeys: [SettingKey] = [
        .host, .port, .database, .user, .password, .sslmode, .sslrootcert, .applicationName, .connectionTimeout,
        .keepalivesIdle, .keepalivesInterval, .keepalivesCount,
    ]

    /// Keys that configure the pool.
    static let poolKeys: [SettingKey] = [
        .poolSize, .maxOverflow, .poolTimeout, .poolRecycle, .idleTimeout, .leakThreshold, .idleCheckAfter,
    ]

    /// The keys of the `worker:` section.
    static let workerKeys = allCases.filter { $0.section == .worker }

    var section: SettingSection { definition.section }
    var rule: ValueRule { definition.rule }

    /// The key's path within its section: `["retry", "attempts"]`.
    var components: [String] { rawValue.split(separator: ".").map(String.init) }

    /// The name `worker config` and messages show: postgres keys by their name alone, since they sit in three
    /// sections; the others with their section (`worker.retry.attempts`).
    var shownName: String {
        switch section {
        case .postgres: rawValue
        case .worker: "worker.\(rawValue)"
        }
    }

    /// The key `worker config` shows as `shownName`.
    static func named(_ shownName: String) -> SettingKey? {
        byShownName[shownName]
    }

    private static let byShownName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.shownName, $0) })

    /// The variable that sets the key in its section's lowest layer (`POSTGRES_POOL_SIZE`, `WORKER_CONCURRENCY`): the
    /// encoding swift-configuration's environment provider applies to the key path.
    var environmentVariable: String {
        ((section.layers.last?.section ?? []) + components).joined(separator: "_").uppercased()
    }

    /// The libpq keyword this key sets.
    var libpqKeyword: String {
        switch self {
        case .database: "dbname"
        case .connectionTimeout: "connect_timeout"
        default: rawValue
        }
    }

    /// Whether this key says *which* database and as whom. A URL of higher priority replaces these as a whole:
    /// taking the host from one place and the password from another would send one server's password to another.
    var namesTarget: Bool {
        switch self {
        case .host, .port, .database, .user, .password: true
        default: false
        }
    }

    /// The variable libpq itself reads when the key is not set, shown by `worker config` so it tells the whole story.
    var libpqEnvironmentVariable: String? {
        switch self {
        case .host: "PGHOST"
        case .port: "PGPORT"
        case .database: "PGDATABASE"
        case .user: "PGUSER"
        case .password: "PGPASSWORD"
        case .sslmode: "PGSSLMODE"
        case .sslrootcert: "PGSSLROOTCERT"
        case .applicationName: "PGAPPNAME"
        case .connectionTimeout: "PGCONNECT_TIMEOUT"
        default: nil
        }
    }
}

/// The part of the configuration a key belongs to.
enum SettingSection: Sendable {
    /// Where and how to connect, and the pool: in three layers, so a `postgres:` section shared with other programs
    /// can be refined by sections only this program reads.
    case postgres
    /// The worker's own behaviour: the `worker:` section and `WORKER_*` variables.
    case worker

    /// The layers this section's keys can sit in, most specific first.
    var layers: [Layer] {
        switch self {
        case .postgres: [.store, .database, .postgres]
        case .worker: [.worker]
        }
    }
}

/// A place a section can sit. Deeper postgres sections are more specific to this program and win.
enum Layer: Int, CaseIterable, Sendable {
    case store
    case database
    case postgres
    case worker

    /// The key path of the section.
    var section: [String] {
        switch self {
        case .store: ["store", "database", "postgres"]
        case .database: ["database", "postgres"]
        case .postgres: ["postgres"]
        case .worker: ["worker"]
        }
    }
}

/// Environment or file: the environment wins because it is what a deployment changes without editing files.
enum Origin: Int, Sendable {
    case environment
    case file
}

/// A rung of the priority ladder; lower ranks win.
struct Position: Comparable, Sendable {
    var origin: Origin
    var layer: Layer

    var rank: Int { origin.rawValue * Layer.allCases.count + layer.rawValue }

    /// The rungs of `section`, highest priority first: the environment's layers, most specific first, then the
    /// file's.
    static func ladder(for section: SettingSection) -> [Position] {
        [Origin.environment, .file].flatMap { origin in
            section.layers.map { Position(origin: origin, layer: $0) }
        }
    }

    static func < (lhs: Position, rhs: Position) -> Bool { lhs.rank < rhs.rank }

    /// The key paths that spell `key` at this rung, preferred first.
    ///
    /// `database.url` sits in the database layer beside `database.postgres.url`, which is more specific and wins.
    /// `POSTGRES_DB` is the Docker image's name for the database; it is accepted in the environment only, where that
    /// convention lives, and `POSTGRES_DATABASE` wins over it.
    func paths(for key: SettingKey) -> [[String]] {
        var paths = [layer.section + key.components]
        if key == .url, layer == .database { paths.append(["database", "url"]) }
        if key == .database, layer == .postgres, origin == .environment { paths.append(["postgres", "db"]) }
        return paths
    }
}
