import Postgres

/// Resolves `WorkerSettings` from the environment, `config.yaml` and defaults.
///
/// The file is `--config`, else `WORKER_CONFIG`, else `./config.yaml`; a missing default file means defaults, but a
/// file someone named must exist. Each key is taken from the first of these that sets it:
///
/// 1. environment, store layer: `STORE_DATABASE_POSTGRES_POOL_SIZE`
/// 2. environment, database layer: `DATABASE_POSTGRES_POOL_SIZE` (and `DATABASE_URL`)
/// 3. environment, postgres layer: `POSTGRES_POOL_SIZE` (and `POSTGRES_DB` for the database, as in Docker)
/// 4. to 6. the file's `store.database.postgres:`, `database.postgres:` (and `database.url`), `postgres:`
/// 7. the default
///
/// The `worker:` section has one layer: `WORKER_CONCURRENCY` over the file's `worker.concurrency`, over the default.
/// The environment wins because it is what a deployment sets without editing files; deeper sections win because
/// they are specific to this program where `postgres:` may be shared with others.
public enum SettingsLoader {
    /// The file read when neither `--config` nor `WORKER_CONFIG` names one.
    public static let defaultConfigPath = "config.yaml"

    /// Reads and validates everything, or throws every problem at once.
    ///
    /// - Parameters:
    ///   - configPath: The `--config` option, if given.
    ///   - environment: The variables to read; the process environment in production, a dictionary in tests.
    public static func load(configPath: String?, environment: [String: String]) throws(SettingsError)
        -> WorkerSettings
    {
        try load(configPath: configPath, environment: environment, defaultPath: defaultConfigPath)
    }

    /// The config file `load` reads, who named it (`--config`, `WORKER_CONFIG` or `default`), and whether it must
    /// exist: a file someone named must, the default need not.
    public static func configFile(configPath: String?, environment: [String: String]) -> NamedConfigFile {
        configFile(configPath: configPath, environment: environment, defaultPath: defaultConfigPath)
    }

    public struct NamedConfigFile: Sendable {
        public var path: String
        public var namedBy: String
        public var required: Bool
    }

    static func configFile(configPath: String?, environment: [String: String], defaultPath: String)
        -> NamedConfigFile
    {
        if let configPath, !configPath.isEmpty {
            return NamedConfigFile(path: configPath, namedBy: "--config", required: true)
        }
        if let named = environment["WORKER_CONFIG"], !named.isEmpty {
            return NamedConfigFile(path: named, namedBy: "WORKER_CONFIG", required: true)
        }
        return NamedConfigFile(path: defaultPath, namedBy: "default", required: false)
    }

    static func load(configPath: String?, environment: [String: String], defaultPath: String) throws(SettingsError)
        -> WorkerSettings
    {
        let named = configFile(configPath: configPath, environment: environment, defaultPath: defaultPath)
        let file = try ConfigFile.read(path: named.path, required: named.required, namedBy: named.namedBy)
        let lookup = SettingLookup(environment: environment, file: file)
        var problems: [SettingsError.Problem] = []
        let connection = ConnectionResolution(lookup: lookup, environment: environment, problems: &problems)
        let pool = PoolResolution(lookup: lookup, problems: &problems)
        let worker = ResolvedKeys(SettingKey.workerKeys, lookup: lookup, problems: &problems)
        // Every value shown was masked by its key's rule; a password that reached another key by a way no rule can
        // see (a YAML alias, a URL typed without its `:`) is still a password given somewhere, and masked as one.
        let secrets = Masking.givenPasswords(lookup: lookup, environment: environment)
        guard problems.isEmpty else { throw SettingsError(problems.map { $0.masking(secrets) }) }
        return WorkerSettings(
            connection: connection.configuration,
            pool: pool.settings,
            worker: WorkerSection(worker),
            warnings: ((file?.warnings ?? []) + connection.warnings).map { Redaction.hide(secrets, in: $0) },
            entries: (connection.entries + pool.entries + SettingKey.workerKeys.map { worker.entry($0) })
                .map { $0.masking(secrets) },
            databaseConfigured: connection.databaseConfigured,
            configFile: file?.path
        )
    }
}
