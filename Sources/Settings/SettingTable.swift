import Postgres

/// One row of the settings table: everything the worker knows about a key besides its name.
struct SettingDefinition: Sendable {
    var section: SettingSection
    /// What the key accepts; parsing and the error message both come from it.
    var rule: ValueRule
    /// The value when nothing sets the key, spelt as in `config.yaml`; nil when libpq or the operating system
    /// decides at connect time.
    var defaultValue: String?
    /// What happens when nothing sets the key, where the value alone does not say it.
    var defaultNote: String?
    /// What the key does, in one line; the README's settings table says the same.
    var doc: String

    init(
        _ section: SettingSection, _ rule: ValueRule, default defaultValue: String?, note defaultNote: String? = nil,
        _ doc: String
    ) {
        self.section = section
        self.rule = rule
        self.defaultValue = defaultValue
        self.defaultNote = defaultNote
        self.doc = doc
    }
}

extension SettingKey {
    /// The settings table: a new key is a case of ``SettingKey`` and its row here, and is then read from both
    /// sources, validated, warned about when misspelt and shown by `worker config`.
    var definition: SettingDefinition {
        switch self {
        case .url:
            SettingDefinition(
                .postgres, .text, default: nil,
                "the database as a postgresql:// URL or a key=value conninfo string; the keys below refine it")
        case .host:
            SettingDefinition(
                .postgres, .name("a host name, IP address or socket folder"), default: nil,
                note: "libpq default: the local socket", "server host name, IP address or unix socket folder")
        case .port:
            SettingDefinition(
                .postgres, .wholeNumber(1...65_535), default: nil, note: "libpq default: 5432", "server port")
        case .database:
            SettingDefinition(
                .postgres, .text, default: nil, note: "libpq default: the user name",
                "database name (POSTGRES_DB in the environment too)")
        case .user:
            SettingDefinition(
                .postgres, .name("a role name"), default: nil, note: "libpq default: the operating system user",
                "role to connect as")
        case .password:
            SettingDefinition(
                .postgres, .text, default: nil, note: "libpq default: none, or ~/.pgpass",
                "password, always shown masked")
        case .sslmode:
            SettingDefinition(
                .postgres, .choice(ValueRule.sslModes), default: nil, note: "libpq default: prefer",
                "TLS: disable, allow, prefer, require, verify-ca or verify-full")
        case .sslrootcert:
            SettingDefinition(
                .postgres, .text, default: nil, note: "libpq default: ~/.postgresql/root.crt",
                "the CA certificate file verify-ca and verify-full check the server against")
        case .applicationName:
            // The server cuts a longer name and says so in a notice that libpq prints before the worker can catch
            // it, name and all; a cut name would also escape the counts that look for it.
            SettingDefinition(
                .postgres,
                .shortText(
                    maxBytes: 55,
                    because: "PostgreSQL keeps 63 bytes of an application_name, and the worker's own monitor "
                        + "connections add -monitor to it"),
                default: ConnectionConfiguration.defaultApplicationName, note: "fallback_application_name",
                "the name the server shows for the worker's connections")
        case .connectionTimeout:
            SettingDefinition(
                .postgres, .wholeNumber(0...ValueRule.maximumSeconds, zeroMeans: "wait forever"),
                default: ConnectionConfiguration.defaultConnectTimeout, "seconds to wait for a connection to open")
        // Linux's limits for TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT; libpq would fail at connect time instead.
        case .keepalivesIdle:
            SettingDefinition(
                .postgres, .wholeNumber(1...32_767), default: nil, note: "operating system default",
                "seconds of silence before TCP keepalives start")
        case .keepalivesInterval:
            SettingDefinition(
                .postgres, .wholeNumber(1...32_767), default: nil, note: "operating system default",
                "seconds between TCP keepalives")
        case .keepalivesCount:
            SettingDefinition(
                .postgres, .wholeNumber(1...127), default: nil, note: "operating system default",
                "keepalives lost before the connection counts as dead")
        case .preparedStatements:
            SettingDefinition(
                .postgres, .choice(["true", "false"]), default: "true",
                "false for PgBouncer in transaction mode, which cannot keep named statements")
        case .poolSize:
            SettingDefinition(
                .postgres, .wholeNumber(0...ValueRule.maximumConnections), default: "10",
                "connections the pool opens at start and keeps")
        case .maxOverflow:
            SettingDefinition(
                .postgres, .wholeNumber(0...ValueRule.maximumConnections), default: "20",
                "connections the pool may open beyond pool_size under load")
        case .poolTimeout:
            SettingDefinition(
                .postgres, .seconds(zeroMeans: nil), default: "30",
                "longest wait for a connection before the unit fails with a timeout")
        case .poolRecycle:
            SettingDefinition(
                .postgres, .seconds(zeroMeans: "never recycle"), default: "3600",
                "age at which a connection is closed on return and replaced")
        case .idleTimeout:
            SettingDefinition(
                .postgres, .seconds(zeroMeans: "never close idle connections"), default: "300",
                "idle time after which connections above pool_size are closed")
        case .leakThreshold:
            SettingDefinition(
                .postgres, .seconds(zeroMeans: "no leak warnings"), default: "60",
                "lease age at which a warning names the holder and call site")
        case .idleCheckAfter:
            SettingDefinition(
                .postgres, .seconds(zeroMeans: "check before every lease"), default: "0.5",
                "idle time after which a connection is checked before it is leased")
        case .concurrency:
            SettingDefinition(
                .worker, .wholeNumber(1...Int.max), default: "4", "tasks per job, for jobs that set no concurrency")
        case .parallelJobs:
            SettingDefinition(
                .worker, .wholeNumber(1...Int.max), default: "4", "jobs running at the same time (--parallel-jobs)")
        case .storeSchema:
            SettingDefinition(.worker, .identifier, default: "memory", "the PostgreSQL schema of the memory store")
        case .textSearchConfig:
            SettingDefinition(
                .worker, .identifier, default: "english", "the full-text configuration the store is made with")
        case .shutdownGrace:
            SettingDefinition(
                .worker, .seconds(zeroMeans: "roll running units back at once", maximum: 3600), default: "30",
                "how long running units may finish after SIGINT or SIGTERM before they are rolled back")
        case .retryAttempts:
            SettingDefinition(
                .worker, .wholeNumber(1...Int.max), default: "6",
                "tries per unit, the first included, for failures that may pass")
        case .retryInitialDelay:
            SettingDefinition(
                .worker, .seconds(zeroMeans: "retry at once", maximum: 3600), default: "0.2",
                "delay before the first retry, doubled for each further one (jittered)")
        case .retryMaxDelay:
            SettingDefinition(
                .worker, .seconds(zeroMeans: "retry at once", maximum: 3600), default: "5",
                "longest delay between tries")
        case .queryMaxChars:
            SettingDefinition(
                .worker, .wholeNumber(1...Int.max), default: "1000", "characters (code points) a query may have")
        case .queryMaxWords:
            SettingDefinition(.worker, .wholeNumber(1...Int.max), default: "64", "words a query may have")
        case .queryTimeout:
            SettingDefinition(
                .worker, .seconds(zeroMeans: "the server's statement_timeout applies", maximum: 3600), default: "30",
                "statement_timeout of a query's search")
        case .ingestTimeout:
            SettingDefinition(
                .worker, .seconds(zeroMeans: "the server's statement_timeout applies", maximum: 3600), default: "300",
                "statement_timeout of each statement of an ingest batch")
        case .bm25K1:
            SettingDefinition(
                .worker, .decimal(0...100), default: "1.2",
                "BM25 k1 of the search: how fast a word's weight saturates as it repeats in a message")
        case .bm25B:
            SettingDefinition(
                .worker, .decimal(0...1), default: "0.75",
                "BM25 b of the search: how much a message's length discounts its words (0 none, 1 fully)")
        case .metricsFile:
            SettingDefinition(
                .worker, .text, default: nil, note: "none",
                "Prometheus text file written at the end of every run (--metrics-file)")
        case .queueVisibilityTimeout:
            SettingDefinition(
                .worker, .seconds(zeroMeans: nil, maximum: 86_400), default: "60",
                "a queued job whose drain stopped heartbeating this long may be claimed by another (heartbeat: a quarter of it)"
            )
        case .queueMaxAttempts:
            SettingDefinition(
                .worker, .wholeNumber(1...1000), default: "5",
                "tries per queued job, the first included, for failures that may pass; then the job is dead")
        case .queueRetryDelay:
            SettingDefinition(
                .worker, .seconds(zeroMeans: "retry at once", maximum: 86_400), default: "10",
                "delay before a queued job's second try, doubled for each further one up to an hour (jittered)")
        case .queuePollInterval:
            SettingDefinition(
                .worker, .seconds(zeroMeans: nil, maximum: 3600), default: "2",
                "how often an idle drain looks for ready jobs when no notification wakes it")
        }
    }
}
