/// The keys a `postgres:` section accepts, in the order `worker config` lists them.
///
/// The raw values are the spellings in `config.yaml`; the environment spells them upper-cased after the layer
/// prefix (`pool_size` → `POSTGRES_POOL_SIZE`).
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

    /// Keys that become libpq keywords, `url` aside.
    static let connectionKeys: [SettingKey] = [
        .host, .port, .database, .user, .password, .sslmode, .sslrootcert, .applicationName, .connectionTimeout,
        .keepalivesIdle, .keepalivesInterval, .keepalivesCount,
    ]

    /// Keys that configure the pool.
    static let poolKeys: [SettingKey] = [
        .poolSize, .maxOverflow, .poolTimeout, .poolRecycle, .idleTimeout, .leakThreshold,
    ]

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

/// The three places a postgres section can sit. Deeper sections are more specific to this program and win.
enum Layer: Int, CaseIterable, Sendable {
    case store
    case database
    case postgres

    /// The key path of the section.
    var section: [String] {
        switch self {
        case .store: ["store", "database", "postgres"]
        case .database: ["database", "postgres"]
        case .postgres: ["postgres"]
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

    /// Highest priority first: environment store, database, postgres; then the file's store, database, postgres.
    static let ladder: [Position] = [Origin.environment, .file].flatMap { origin in
        Layer.allCases.map { Position(origin: origin, layer: $0) }
    }

    static func < (lhs: Position, rhs: Position) -> Bool { lhs.rank < rhs.rank }

    /// The key paths that spell `key` at this rung, preferred first.
    ///
    /// `database.url` sits in the database layer beside `database.postgres.url`, which is more specific and wins.
    /// `POSTGRES_DB` is the Docker image's name for the database; it is accepted in the environment only, where that
    /// convention lives, and `POSTGRES_DATABASE` wins over it.
    func paths(for key: SettingKey) -> [[String]] {
        var paths = [layer.section + [key.rawValue]]
        if key == .url, layer == .database { paths.append(["database", "url"]) }
        if key == .database, layer == .postgres, origin == .environment { paths.append(["postgres", "db"]) }
        return paths
    }
}
