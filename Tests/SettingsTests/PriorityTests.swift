import PoolConfiguration
import Testing

@testable import Postgres
@testable import Settings

/// One rung of the priority ladder, as a test sets a value there.
enum Rung: Int, CaseIterable, Sendable, CustomTestStringConvertible {
    case environmentStore
    case environmentDatabase
    case environmentPostgres
    case fileStore
    case fileDatabase
    case filePostgres

    var testDescription: String { "\(self)" }

    var variablePrefix: String? {
        switch self {
        case .environmentStore: "STORE_DATABASE_POSTGRES_"
        case .environmentDatabase: "DATABASE_POSTGRES_"
        case .environmentPostgres: "POSTGRES_"
        default: nil
        }
    }
}

/// Two rungs, the first of higher priority.
struct RungPair: Sendable, CustomTestStringConvertible {
    var higher: Rung
    var lower: Rung
    var testDescription: String { "\(higher) over \(lower)" }

    /// Every pair: environment over file at every layer, and layer order within each source.
    static let all: [RungPair] = Rung.allCases.flatMap { higher in
        Rung.allCases.filter { $0.rawValue > higher.rawValue }.map { RungPair(higher: higher, lower: $0) }
    }
}

/// `key` set to `values[rung]` at each given rung: the environment, the YAML text and the line of each file value.
func ladder(_ key: String, _ values: [Rung: String]) -> (
    environment: [String: String], yaml: String?, lines: [Rung: Int]
) {
    var environment: [String: String] = [:]
    var yaml: [String] = []
    var lines: [Rung: Int] = [:]
    for rung in Rung.allCases {
        guard let value = values[rung] else { continue }
        if let prefix = rung.variablePrefix {
            environment[prefix + key.uppercased()] = value
            continue
        }
        switch rung {
        case .fileStore: yaml += ["store:", "  database:", "    postgres:", "      \(key): \(value)"]
        case .fileDatabase: yaml += ["database:", "  postgres:", "    \(key): \(value)"]
        default: yaml += ["postgres:", "  \(key): \(value)"]
        }
        lines[rung] = yaml.count
    }
    return (environment, yaml.isEmpty ? nil : yaml.joined(separator: "\n") + "\n", lines)
}

func expectedSource(_ rung: Rung, key: String, path: String?, lines: [Rung: Int]) -> SettingSource {
    if let prefix = rung.variablePrefix { return .environment(variable: prefix + key.uppercased()) }
    return .file(path: path ?? "", line: lines[rung])
}

@Suite struct PriorityTests {
    @Test(arguments: RungPair.all)
    func poolSizeFromTheHigherRung(pair: RungPair) throws {
        let setup = ladder(
            "pool_size", [pair.higher: "\(pair.higher.rawValue + 1)", pair.lower: "\(pair.lower.rawValue + 1)"])
        let (settings, path) = try load(setup.yaml, environment: setup.environment)
        #expect(settings.pool.minSize == pair.higher.rawValue + 1)
        let entry = try #require(settings.entry("pool_size"))
        #expect(entry.value == "\(pair.higher.rawValue + 1)")
        #expect(entry.source == expectedSource(pair.higher, key: "pool_size", path: path, lines: setup.lines))
        #expect(settings.warnings.isEmpty)
    }

    @Test(arguments: RungPair.all)
    func hostFromTheHigherRung(pair: RungPair) throws {
        let setup = ladder(
            "host", [pair.higher: "host-\(pair.higher.rawValue)", pair.lower: "host-\(pair.lower.rawValue)"])
        let (settings, path) = try load(setup.yaml, environment: setup.environment)
        #expect(settings.connection["host"] == "host-\(pair.higher.rawValue)")
        #expect(
            settings.entry("host")?.source == expectedSource(pair.higher, key: "host", path: path, lines: setup.lines))
        #expect(settings.databaseConfigured)
    }

    @Test func theWholeLadderFromTheTop() throws {
        for top in Rung.allCases {
            let values = Dictionary(
                uniqueKeysWithValues: Rung.allCases.filter { $0.rawValue >= top.rawValue }.map {
                    ($0, "\($0.rawValue + 1)")
                })
            let setup = ladder("max_overflow", values)
            let (settings, path) = try load(setup.yaml, environment: setup.environment)
            #expect(settings.pool.maxSize == PoolSettings().minSize + top.rawValue + 1, "top: \(top)")
            #expect(
                settings.entry("max_overflow")?.source
                    == expectedSource(top, key: "max_overflow", path: path, lines: setup.lines))
        }
    }

    /// libpq's own variables point it at a server too, so `make run` must not start a private one over them; other
    /// PG variables (a password, a TLS mode) name no server.
    @Test(arguments: ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE"])
    func libpqsTargetVariablesCountAsAConfiguredDatabase(variable: String) throws {
        #expect(try load(environment: [variable: "x"]).0.databaseConfigured)
        #expect(try !load(environment: [variable: ""]).0.databaseConfigured)
    }

    @Test func libpqsOtherVariablesDoNotConfigureADatabase() throws {
        #expect(try !load(environment: ["PGPASSWORD": "secret", "PGSSLMODE": "require"]).0.databaseConfigured)
    }

    @Test func defaultsWhenNothingIsSet() throws {
        let (settings, _) = try load()
        #expect(settings.pool == PoolSettings())
        #expect(settings.connection.parameters.isEmpty)
        #expect(!settings.databaseConfigured)
        #expect(settings.configFile == nil)
        #expect(settings.warnings.isEmpty)
        #expect(settings.entries.map(\.key) == SettingKey.allCases.map(\.shownName))
        for key in ["pool_size", "max_overflow", "pool_timeout", "pool_recycle", "idle_timeout", "leak_threshold"] {
            #expect(settings.entry(key)?.source == .default, "\(key)")
        }
        #expect(settings.entry("pool_size")?.value == "10")
        #expect(settings.entry("max_overflow")?.value == "20")
        #expect(settings.entry("pool_recycle")?.value == "3600")
        #expect(settings.entry("host")?.value == nil)
        #expect(settings.entry("application_name")?.value == "memory-worker")
    }

    @Test func poolValuesAreConverted() throws {
        let (settings, _) = try load(
            """
            postgres:
              pool_size: 0
              max_overflow: 3
              pool_timeout: 2.5
              pool_recycle: 0
              idle_timeout: 0
              leak_threshold: 0.25
            """)
        #expect(
            settings.pool
                == PoolSettings(
                    minSize: 0, maxSize: 3, acquireTimeout: .milliseconds(2500), maxLifetime: nil, idleTimeout: nil,
                    leakThreshold: .milliseconds(250)))
        #expect(settings.entry("pool_timeout")?.value == "2.5")
        #expect(settings.entry("pool_recycle")?.note == "never recycle")
        #expect(settings.entry("max_overflow")?.note == "max size 3")
    }

    @Test func maxOverflowDefaultsOnTopOfAGivenPoolSize() throws {
        let (settings, _) = try load(environment: ["POSTGRES_POOL_SIZE": "5"])
        #expect(settings.pool.minSize == 5)
        #expect(settings.pool.maxSize == 25)
    }

    @Test func emptyVariablesAndNullValuesMeanUnset() throws {
        let (settings, path) = try load(
            """
            postgres:
              pool_size: 7
              host:
              port: ~
            """, environment: ["POSTGRES_POOL_SIZE": "", "POSTGRES_HOST": ""])
        #expect(settings.pool.minSize == 7)
        #expect(settings.entry("pool_size")?.source == .file(path: path ?? "", line: 2))
        #expect(settings.connection["host"] == nil)
        #expect(settings.connection["port"] == nil)
        #expect(!settings.databaseConfigured)
    }

    @Test func dottedKeysReadAsNestedOnes() throws {
        let (settings, path) = try load("postgres.pool_size: 7\ndatabase.postgres.host: db\n")
        #expect(settings.pool.minSize == 7)
        #expect(settings.connection["host"] == "db")
        #expect(settings.entry("host")?.source == .file(path: path ?? "", line: 2))
        #expect(settings.warnings.isEmpty)
    }

    @Test func connectionOptionsBecomeLibpqKeywords() throws {
        let (settings, _) = try load(
            environment: [
                "POSTGRES_SSLMODE": "verify-full", "POSTGRES_APPLICATION_NAME": "nightly",
                "POSTGRES_CONNECTION_TIMEOUT": "5", "POSTGRES_KEEPALIVES_IDLE": "30",
                "POSTGRES_KEEPALIVES_INTERVAL": "10", "POSTGRES_KEEPALIVES_COUNT": "3",
            ])
        #expect(settings.connection["sslmode"] == "verify-full")
        #expect(settings.connection["application_name"] == "nightly")
        #expect(settings.connection["connect_timeout"] == "5")
        #expect(settings.connection["keepalives"] == "1")
        #expect(settings.connection["keepalives_idle"] == "30")
        #expect(settings.connection["keepalives_interval"] == "10")
        #expect(settings.connection["keepalives_count"] == "3")
    }

    @Test func libpqVariablesShowWhenNothingElseSetsTheKey() throws {
        let (settings, _) = try load(environment: ["PGHOST": "/run/pg", "PGPASSWORD": secret])
        #expect(
            settings.entry("host")
                == Setting(
                    key: "host", value: "/run/pg", source: .environment(variable: "PGHOST"), note: "read by libpq"))
        #expect(settings.entry("password")?.value == "***")
        // libpq reads them itself; they are not this program's configuration, but they do name a server, so
        // `make run` must not start a private one over them.
        #expect(settings.connection["host"] == nil)
        #expect(settings.databaseConfigured)
    }

    @Test func workerKeysAreTypedWithTheEnvironmentOverTheFile() throws {
        let yaml = "worker:\n  concurrency: 3\n  parallel_jobs: 2\n  retry:\n    initial_delay: 0.2\n"
        let (settings, path) = try load(yaml, environment: ["WORKER_PARALLEL_JOBS": "8"])
        #expect(settings.warnings.isEmpty)
        #expect(settings.worker.concurrency == 3)
        #expect(settings.entry("worker.concurrency")?.source == .file(path: path ?? "", line: 2))
        #expect(settings.worker.parallelJobs == 8)
        #expect(settings.entry("worker.parallel_jobs")?.source == .environment(variable: "WORKER_PARALLEL_JOBS"))
        #expect(settings.worker.retryInitialDelay == .milliseconds(200))
        #expect(settings.entry("worker.retry.initial_delay")?.source == .file(path: path ?? "", line: 5))
        #expect(settings.entry("worker.retry.attempts")?.source == .default)
    }
}

@Suite struct PreparedStatementsSettingTests {
    @Test func preparedStatementsAreOnUnlessSwitchedOff() throws {
        let (defaults, _) = try load()
        #expect(defaults.connection.usePreparedStatements)
        #expect(defaults.entry("prepared_statements")?.source == .default)
        let (file, path) = try load("postgres:\n  prepared_statements: false\n")
        #expect(!file.connection.usePreparedStatements)
        #expect(file.entry("prepared_statements")?.source == .file(path: path ?? "", line: 2))
        let (environment, _) = try load(
            "postgres:\n  prepared_statements: false\n",
            environment: ["STORE_DATABASE_POSTGRES_PREPARED_STATEMENTS": "true"]
        )
        #expect(environment.connection.usePreparedStatements)
    }
}
