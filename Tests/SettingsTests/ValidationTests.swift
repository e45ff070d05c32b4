import Testing

@testable import Settings

/// A value a key must refuse, and a phrase of what the error says is accepted.
struct InvalidValue: Sendable, CustomTestStringConvertible {
    var key: String
    var value: String
    var accepted: String
    var testDescription: String { "\(key): \(value)" }

    /// Connection and pool keys by their name (set under `postgres:`), `worker:` keys by their whole path.
    static let all: [InvalidValue] = [
        .init(key: "pool_size", value: "abc", accepted: "a whole number from 0 to 262143"),
        .init(key: "pool_size", value: "-1", accepted: "a whole number from 0 to 262143"),
        .init(key: "pool_size", value: "1.5", accepted: "a whole number from 0 to 262143"),
        .init(key: "pool_size", value: "300000", accepted: "a whole number from 0 to 262143"),
        .init(key: "max_overflow", value: "-3", accepted: "a whole number from 0 to 262143"),
        .init(key: "pool_timeout", value: "0", accepted: "a number of seconds greater than 0"),
        .init(key: "pool_timeout", value: "-1", accepted: "a number of seconds greater than 0"),
        .init(key: "pool_timeout", value: "soon", accepted: "fractions allowed"),
        .init(key: "pool_timeout", value: "inf", accepted: "at most 31536000"),
        .init(key: "pool_timeout", value: "nan", accepted: "at most 31536000"),
        .init(key: "pool_timeout", value: "40000000", accepted: "at most 31536000"),
        .init(key: "pool_recycle", value: "-5", accepted: "0 = never recycle"),
        .init(key: "idle_timeout", value: "5m", accepted: "0 = never close idle connections"),
        .init(key: "leak_threshold", value: "-1", accepted: "0 = no leak warnings"),
        .init(key: "connection_timeout", value: "1.5", accepted: "0 = wait forever"),
        .init(key: "keepalives_idle", value: "0", accepted: "a whole number from 1 to 32767"),
        .init(key: "keepalives_interval", value: "often", accepted: "a whole number from 1 to 32767"),
        .init(key: "keepalives_count", value: "200", accepted: "a whole number from 1 to 127"),
        .init(key: "prepared_statements", value: "yes", accepted: "one of true, false"),
        .init(key: "port", value: "0", accepted: "a whole number from 1 to 65535"),
        .init(key: "port", value: "70000", accepted: "a whole number from 1 to 65535"),
        .init(key: "port", value: "pg", accepted: "a whole number from 1 to 65535"),
        .init(key: "port", value: "tcp://10.0.0.1:5432", accepted: "a whole number from 1 to 65535"),
        .init(key: "application_name", value: String(repeating: "n", count: 56), accepted: "at most 55 bytes"),
        .init(key: "host", value: "tcp://db", accepted: "not a URL or user:password@host"),
        .init(key: "user", value: "postgres://db", accepted: "put a URL in DATABASE_URL"),
        .init(
            key: "sslmode", value: "requir", accepted: "one of disable, allow, prefer, require, verify-ca, verify-full"),
        .init(
            key: "sslmode", value: "REQUIRE", accepted: "one of disable, allow, prefer, require, verify-ca, verify-full"
        ),
        .init(key: "worker.concurrency", value: "abc", accepted: "a whole number of at least 1"),
        .init(key: "worker.concurrency", value: "0", accepted: "a whole number of at least 1"),
        .init(key: "worker.parallel_jobs", value: "-2", accepted: "a whole number of at least 1"),
        .init(key: "worker.retry.attempts", value: "2.5", accepted: "a whole number of at least 1"),
        .init(key: "worker.query_max_chars", value: "0", accepted: "a whole number of at least 1"),
        .init(key: "worker.query_max_words", value: "many", accepted: "a whole number of at least 1"),
        .init(key: "worker.shutdown_grace", value: "-1", accepted: "a number of seconds from 0 to 3600"),
        .init(key: "worker.retry.initial_delay", value: "soon", accepted: "a number of seconds from 0 to 3600"),
        .init(key: "worker.retry.max_delay", value: "3601", accepted: "a number of seconds from 0 to 3600"),
        .init(key: "worker.query_timeout", value: "inf", accepted: "0 = the server's statement_timeout applies"),
        .init(key: "worker.ingest_timeout", value: "5m", accepted: "a number of seconds from 0 to 3600"),
        .init(key: "worker.store_schema", value: "Memory", accepted: "a plain lower-case identifier"),
        .init(key: "worker.store_schema", value: "memory; drop", accepted: "[a-z_][a-z0-9_]*"),
        .init(
            key: "worker.store_schema", value: String(repeating: "m", count: 64), accepted: "at most 63 characters"),
        .init(key: "worker.text_search_config", value: "1english", accepted: "a plain lower-case identifier"),
        .init(key: "worker.bm25_k1", value: "-0.1", accepted: "a number from 0 to 100, fractions allowed"),
        .init(key: "worker.bm25_k1", value: "high", accepted: "a number from 0 to 100, fractions allowed"),
        .init(key: "worker.bm25_b", value: "1.5", accepted: "a number from 0 to 1, fractions allowed"),
        .init(key: "worker.bm25_b", value: "nan", accepted: "a number from 0 to 1, fractions allowed"),
    ]

    /// The key path in the file: `postgres.` before a connection or pool key.
    var filePath: String { key.hasPrefix("worker.") ? key : "postgres.\(key)" }

    /// The key as nested YAML, its value on the last line (line `filePath`'s component count).
    var yaml: String {
        var text = ""
        for (depth, component) in filePath.split(separator: ".").enumerated() {
            text += String(repeating: "  ", count: depth) + "\(component):"
            text += depth == filePath.split(separator: ".").count - 1 ? " \"\(value)\"\n" : "\n"
        }
        return text
    }

    /// The variable that sets the key, and the key path messages name for it: the database layer for a connection or
    /// pool key (`DATABASE_POSTGRES_POOL_SIZE`), the worker section's own for a worker key.
    var variable: (name: String, keyPath: String) {
        if key.hasPrefix("worker.") { return (key.replacingOccurrences(of: ".", with: "_").uppercased(), key) }
        return ("DATABASE_POSTGRES_\(key.uppercased())", "database.postgres.\(key)")
    }
}

@Suite struct ValidationTests {
    @Test(arguments: InvalidValue.all)
    func invalidValueInTheFileNamesKeyLineValueAndAccepted(_ invalid: InvalidValue) throws {
        let (error, path) = try loadError(invalid.yaml)
        let problem = try #require(error.problems.first)
        let line = invalid.filePath.split(separator: ".").count
        #expect(error.problems.count == 1)
        #expect(problem.key == invalid.filePath)
        #expect(problem.source == .file(path: path ?? "", line: line))
        #expect(problem.value == invalid.value)
        #expect(
            problem.description.hasPrefix(
                "\(path ?? ""):\(line): invalid value '\(invalid.value)' for \(invalid.filePath); expected "))
        #expect(problem.description.contains(invalid.accepted))
    }

    @Test(arguments: InvalidValue.all)
    func invalidValueInTheEnvironmentNamesTheVariable(_ invalid: InvalidValue) throws {
        let (variable, keyPath) = invalid.variable
        let (error, _) = try loadError(environment: [variable: invalid.value])
        let problem = try #require(error.problems.first)
        #expect(problem.source == .environment(variable: variable))
        #expect(
            problem.description.hasPrefix(
                "env \(variable): invalid value '\(invalid.value)' for \(keyPath); expected "))
        #expect(problem.description.contains(invalid.accepted))
    }

    @Test func aKubernetesServicePortVariableGetsAHint() throws {
        let (error, _) = try loadError(environment: ["POSTGRES_PORT": "tcp://10.0.0.1:5432"])
        #expect(
            error.description.hasSuffix(
                "(Kubernetes sets POSTGRES_PORT=tcp://… for a Service of that name; set it explicitly)"))
    }

    @Test func shadowedInvalidValuesDoNotMatter() throws {
        let (settings, _) = try load("postgres:\n  port: nope\n", environment: ["POSTGRES_PORT": "5433"])
        #expect(settings.connection["port"] == "5433")
    }

    @Test func aPoolThatCannotOpenAnyConnectionIsRefused() throws {
        let (error, path) = try loadError("postgres:\n  pool_size: 0\n", environment: ["POSTGRES_MAX_OVERFLOW": "0"])
        let problem = try #require(error.problems.first)
        #expect(problem.key == "pool_size + max_overflow")
        #expect(problem.description.contains("\(path ?? ""):2 and env POSTGRES_MAX_OVERFLOW"))
        #expect(problem.description.contains("'0 + 0'"))
        #expect(problem.description.contains("at least 1"))
    }

    @Test func aPoolLargerThanPostgreSQLCanServeIsRefused() throws {
        let (error, _) = try loadError(environment: ["POSTGRES_POOL_SIZE": "262143", "POSTGRES_MAX_OVERFLOW": "1"])
        #expect(error.description.contains("at most 262143"))
    }

    @Test func malformedURLNamesTheKeyAndTheSource() throws {
        let (error, _) = try loadError(environment: ["DATABASE_URL": "postgresql://app@host/db?nonsense=1"])
        let problem = try #require(error.problems.first)
        #expect(problem.key == "database.url")
        #expect(problem.source == .environment(variable: "DATABASE_URL"))
        #expect(problem.description.hasPrefix("env DATABASE_URL: invalid value 'postgresql://app@host/db?nonsense=1'"))
        #expect(problem.description.contains("invalid URI query parameter: \"nonsense\""))
        #expect(problem.description.contains("postgresql://user:password@host:port/database"))
        #expect(problem.description.contains("nonsense"))
    }

    @Test func invalidPartsOfAURLAreCaught() throws {
        let (error, path) = try loadError("postgres:\n  url: postgresql://u@h:99999/db?sslmode=nope\n")
        #expect(error.problems.count == 2)
        #expect(error.problems.map(\.key) == ["postgres.url (port)", "postgres.url (sslmode)"])
        #expect(error.problems.allSatisfy { $0.source == .file(path: path ?? "", line: 2) })
        #expect(error.description.contains("'99999'"))
        #expect(error.description.contains("'nope'"))
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let (error, _) = try loadError(
            "postgres:\n  port: x\n  sslmode: y\n  pool_timeout: z\n", environment: ["POSTGRES_KEEPALIVES_COUNT": "0"])
        #expect(
            error.problems.map(\.key) == [
                "postgres.port", "postgres.sslmode", "postgres.keepalives_count", "postgres.pool_timeout",
            ])
        #expect(error.description.split(separator: "\n").count == 4)
    }

    @Test func aListWhereOneValueBelongsIsAnError() throws {
        let (error, path) = try loadError("postgres:\n  host: a\n  port: [1, 2]\n")
        #expect(error.description == "\(path ?? ""):3: postgres.port takes a single value, not a list")
    }

    @Test func aSectionThatIsNotAMappingIsAnError() throws {
        let (error, path) = try loadError("database:\n  url: postgresql://h/db\npostgres: localhost\n")
        #expect(error.description.hasPrefix("\(path ?? ""):3: postgres must be a mapping of keys"))
        let (nested, nestedPath) = try loadError("postgres:\n  host:\n    name: x\n")
        #expect(nested.description == "\(nestedPath ?? ""):2: postgres.host takes a single value, not a mapping")
    }
}
