import PoolConfiguration
import Postgres

/// Everything the worker needs before it connects, resolved from the environment, `config.yaml` and defaults.
///
/// Resolved and validated as a whole at startup, so a typo stops the program before the first connection rather
/// than after a pool has half started. See `SettingsLoader` for the priority order and `ConnectionResolution` for
/// how a URL and discrete keys combine.
public struct WorkerSettings: Sendable {
    /// libpq keywords: host, port, dbname, user, password, sslmode, application_name, connect_timeout, keepalives…
    public var connection: ConnectionConfiguration
    /// The pool's sizes and timeouts.
    public var pool: PoolSettings
    /// The `worker:` section: how jobs run, where the store lives, how long statements and retries may take.
    public var worker: WorkerSection
    /// Things worth fixing that do not stop the program: unknown keys, a variable shadowed by a URL.
    public var warnings: [String]
    /// Every effective setting with its source, in the order `worker config` shows them; values already masked.
    public var entries: [Setting]
    /// Whether a URL or host came from the environment or the file. When false the connection falls back to libpq's
    /// defaults, which is when the Makefile starts its private cluster.
    public var databaseConfigured: Bool
    /// The config file that was read; nil when the default file does not exist.
    public var configFile: String?
}
