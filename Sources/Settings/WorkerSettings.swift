import ConnectionPool
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
    /// Things worth fixing that do not stop the program: unknown keys, a variable shadowed by a URL.
    public var warnings: [String]
    /// Every effective setting with its source, in the order `worker config` shows them; values already masked.
    public var entries: [Setting]
    /// Whether a URL or host came from the environment or the file. When false the connection falls back to libpq's
    /// defaults, which is when the Makefile starts its private cluster.
    public var databaseConfigured: Bool
    /// The config file that was read; nil when the default file does not exist.
    public var configFile: String?

    let lookup: SettingLookup

    /// The unparsed value of a key this module does not interpret, such as `worker.concurrency`: the environment
    /// (`WORKER_CONCURRENCY`) over the file, nil when neither sets it.
    ///
    /// Later settings can start here before they earn a typed property. The value is not masked, so do not use this
    /// for secrets, and validate it at the call site with `source` in the message.
    public func value(forKey key: String) -> (value: String, source: SettingSource)? {
        let keyPath = key.split(separator: ".").map(String.init)
        return lookup.value(at: keyPath, origin: .environment) ?? lookup.value(at: keyPath, origin: .file)
    }
}
