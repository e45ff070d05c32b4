import Testing

@testable import Settings

@Suite struct URLTests {
    @Test func databaseURLNamesTheWholeTarget() throws {
        let (settings, _) = try load(environment: ["DATABASE_URL": "postgresql://app:pw@db.example.com:6432/prod"])
        #expect(settings.connection["host"] == "db.example.com")
        #expect(settings.connection["port"] == "6432")
        #expect(settings.connection["dbname"] == "prod")
        #expect(settings.connection["user"] == "app")
        #expect(settings.connection["password"] == "pw")
        #expect(settings.databaseConfigured)
        let url = try #require(settings.entry("url"))
        #expect(url.value == "postgresql://app:***@db.example.com:6432/prod")
        #expect(url.source == .environment(variable: "DATABASE_URL"))
        #expect(settings.entry("port") == Setting(key: "port", value: "6432", source: url.source, note: "from url"))
    }

    @Test func databaseURLInTheFile() throws {
        let (settings, path) = try load("database:\n  url: postgresql://app@filehost/filedb\n")
        #expect(settings.connection["host"] == "filehost")
        #expect(settings.entry("url")?.source == .file(path: path ?? "", line: 2))
        #expect(settings.warnings.isEmpty)
    }

    @Test func databasePostgresURLBeatsDatabaseURLInTheSameLayer() throws {
        let (settings, _) = try load(
            "database:\n  url: postgresql://generic/a\n  postgres:\n    url: postgresql://specific/b\n")
        #expect(settings.connection["host"] == "specific")
        let (fromEnvironment, _) = try load(environment: [
            "DATABASE_URL": "postgresql://generic/a", "DATABASE_POSTGRES_URL": "postgresql://specific/b",
        ])
        #expect(fromEnvironment.connection["host"] == "specific")
    }

    @Test func environmentURLBeatsFileURL() throws {
        let (settings, _) = try load(
            "postgres:\n  url: postgresql://filehost/a\n", environment: ["DATABASE_URL": "postgresql://envhost/b"])
        #expect(settings.connection["host"] == "envhost")
        #expect(settings.connection["dbname"] == "b")
    }

    @Test func discreteKeyAtTheURLsRungOverridesIt() throws {
        let (settings, _) = try load(environment: [
            "DATABASE_URL": "postgresql://app@urlhost:5432/db", "DATABASE_POSTGRES_HOST": "override",
        ])
        #expect(settings.connection["host"] == "override")
        #expect(settings.connection["dbname"] == "db")
        #expect(settings.entry("host")?.note == "overrides url")
        #expect(settings.entry("host")?.source == .environment(variable: "DATABASE_POSTGRES_HOST"))
    }

    @Test func discreteKeyAboveTheURLOverridesIt() throws {
        let (settings, _) = try load(
            "postgres:\n  url: postgresql://app:pw@filehost:5432/db\n",
            environment: ["POSTGRES_HOST": "envhost", "POSTGRES_PORT": "6543"])
        #expect(settings.connection["host"] == "envhost")
        #expect(settings.connection["port"] == "6543")
        #expect(settings.connection["user"] == "app")
        #expect(settings.connection["password"] == "pw")
    }

    @Test func fileTargetKeysCannotRedirectAnEnvironmentURL() throws {
        let (settings, path) = try load(
            "postgres:\n  host: localhost\n  password: devpass\n",
            environment: ["DATABASE_URL": "postgresql://app@prod/db"])
        #expect(settings.connection["host"] == "prod")
        #expect(settings.connection["password"] == nil)
        #expect(settings.entry("host")?.note == "from url; \(path ?? ""):2 ignored")
        #expect(settings.entry("password")?.note?.hasSuffix("\(path ?? ""):3 ignored") == true)
        // Environment over file is the normal case, not worth a warning.
        #expect(settings.warnings.isEmpty)
    }

    @Test func lowerRungInTheSameSourceDisagreeingWithTheURLWarns() throws {
        let (settings, _) = try load(environment: [
            "DATABASE_URL": "postgresql://app@urlhost/db", "POSTGRES_HOST": "otherhost", "POSTGRES_PASSWORD": secret,
        ])
        #expect(settings.connection["host"] == "urlhost")
        #expect(settings.connection["password"] == nil)
        #expect(settings.warnings.count == 2)
        #expect(settings.warnings.contains { $0.hasPrefix("env POSTGRES_HOST: postgres.host 'otherhost' is ignored") })
        #expect(settings.warnings.contains { $0.hasPrefix("env POSTGRES_PASSWORD: postgres.password is ignored") })
        #expect(!settings.warnings.joined().contains(secret))
    }

    @Test func lowerRungOptionsFillInWhatTheURLLeavesUnset() throws {
        let (settings, _) = try load(
            "postgres:\n  sslmode: require\n  application_name: from-file\n",
            environment: ["DATABASE_URL": "postgresql://prod/db?application_name=from-url"])
        #expect(settings.connection["sslmode"] == "require")
        #expect(settings.connection["application_name"] == "from-url")
        #expect(settings.entry("application_name")?.note?.hasPrefix("from url;") == true)
    }

    @Test func postgresDBIsTheDatabaseAtThePostgresLayer() throws {
        let (settings, _) = try load(environment: ["POSTGRES_DB": "docker"])
        #expect(settings.connection["dbname"] == "docker")
        #expect(settings.entry("database")?.source == .environment(variable: "POSTGRES_DB"))
        let (both, _) = try load(environment: ["POSTGRES_DB": "docker", "POSTGRES_DATABASE": "explicit"])
        #expect(both.connection["dbname"] == "explicit")
        let (higher, _) = try load(environment: ["POSTGRES_DB": "docker", "DATABASE_POSTGRES_DATABASE": "layered"])
        #expect(higher.connection["dbname"] == "layered")
    }

    @Test func theSeedsCIEnvironmentWorksAsWritten() throws {
        let (settings, _) = try load(environment: [
            "POSTGRES_HOST": "localhost", "POSTGRES_PORT": "5432", "POSTGRES_DB": "memfuse_test",
            "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "postgres",
            "DATABASE_URL": "postgresql://postgres:postgres@localhost:5432/memfuse_test",
        ])
        #expect(settings.connection["host"] == "localhost")
        #expect(settings.connection["port"] == "5432")
        #expect(settings.connection["dbname"] == "memfuse_test")
        #expect(settings.connection["user"] == "postgres")
        #expect(settings.connection["password"] == "postgres")
        #expect(settings.databaseConfigured)
        #expect(settings.warnings.isEmpty)
        #expect(settings.pool == .init())
    }

    @Test func anEmptyPasswordIsNotMistakenForAnAmbiguousURL() throws {
        let (settings, _) = try load(environment: ["DATABASE_URL": "postgresql://app:@db/prod"])
        #expect(settings.connection["user"] == "app")
        #expect(settings.connection["host"] == "db")
    }

    @Test func conninfoWorksWhereAURLDoes() throws {
        let (settings, _) = try load(environment: ["DATABASE_URL": "host=h port=5433 dbname=d"])
        #expect(settings.connection["host"] == "h")
        #expect(settings.connection["port"] == "5433")
    }
}
