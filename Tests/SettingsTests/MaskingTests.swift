import Foundation
import Testing

@testable import Settings

/// The password must not appear in any output: errors, warnings, `worker config` text or JSON.
@Suite struct MaskingTests {
    /// Every form in which the password could leak.
    func expectNoSecret(_ text: String, _ password: String = secret, sourceLocation: SourceLocation = #_sourceLocation)
    {
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        #expect(!text.contains(password), "\(text)", sourceLocation: sourceLocation)
        #expect(!text.contains(encoded), "\(text)", sourceLocation: sourceLocation)
    }

    func reports(_ settings: WorkerSettings) throws -> String {
        try settings.formattedReport() + "\n" + settings.jsonReport() + "\n" + settings.warnings.joined(separator: "\n")
            + "\n" + settings.entries.map { "\($0)" }.joined(separator: "\n")
    }

    @Test func passwordKeyShowsAsStars() throws {
        let (settings, _) = try load("postgres:\n  host: h\n  password: \"\(secret)\"\n")
        #expect(settings.connection["password"] == secret)
        #expect(settings.entry("password")?.value == "***")
        try expectNoSecret(reports(settings))
    }

    @Test(arguments: [
        "postgresql://app:Zx9-Secret!@db:5432/prod",
        "postgresql://app:Zx9-Secret%21@db:5432/prod?sslmode=require",
        "postgresql://app:Zx9%40Sec%3Aret%2F@db:5432/prod",
        "host=db user=app password=Zx9-Secret! dbname=prod",
        "host=db user=app password='Zx9 Secret!' dbname=prod",
    ])
    func urlsShowTheirPasswordMasked(url: String) throws {
        let (settings, _) = try load(environment: ["DATABASE_URL": url])
        let password = try #require(settings.connection["password"])
        let report = try reports(settings)
        expectNoSecret(report, password)
        #expect(report.contains("***"))
    }

    @Test func invalidValuesNextToAPasswordDoNotLeakIt() throws {
        let (error, _) = try loadError(
            "postgres:\n  password: \"\(secret)\"\n  port: x\n",
            environment: ["POSTGRES_PASSWORD": secret, "POSTGRES_POOL_SIZE": "x"])
        #expect(error.problems.count == 2)
        expectNoSecret(error.description)
    }

    @Test(arguments: [
        "postgresql://app:Zx9-Secret!@db/prod?nonsense=1",
        "postgresql://app:Zx9-Secret!@db:99999/prod",
        "postgresql://app:Zx9-Secret!@db/prod?sslmode=sometimes",
        "host=db password=Zx9-Secret! dbname",
    ])
    func malformedURLsDoNotLeakThePassword(url: String) throws {
        let (error, _) = try loadError(environment: ["DATABASE_URL": url])
        #expect(!error.problems.isEmpty)
        expectNoSecret(error.description)
    }

    @Test(arguments: [
        "postgresql://app:Zx9-Sec@ret@db:5432/prod",
        "postgresql://app:Zx9-Sec/ret@db:5432/prod",
    ])
    func unencodedSeparatorsInThePasswordAreRefusedWithoutShowingAnyPart(url: String) throws {
        let (error, _) = try loadError(environment: ["DATABASE_URL": url])
        #expect(error.description.contains("percent-encoded"))
        #expect(!error.description.contains("Zx9"))
        #expect(!error.description.contains("ret"))
    }

    @Test func warningsAboutIgnoredPasswordsDoNotShowThem() throws {
        let (settings, _) = try load(environment: [
            "DATABASE_URL": "postgresql://app:other-\(secret)@db/prod", "POSTGRES_PASSWORD": secret,
        ])
        #expect(settings.warnings.count == 1)
        try expectNoSecret(reports(settings))
    }

    /// A password that lands in a field other than the password is masked wherever the value shows: the entry, the
    /// `# database:` URL, the JSON.
    @Test(arguments: [
        ("POSTGRES_USER", "app:Zx9-Secret!"),
        ("POSTGRES_DB", "prod password=Zx9-Secret!"),
        ("POSTGRES_DB", "postgresql://app:Zx9-Secret!@db/prod"),
        ("POSTGRES_APPLICATION_NAME", "host=db password=Zx9-Secret!"),
        ("POSTGRES_SSLROOTCERT", "postgresql://app:Zx9-Secret!@db/prod"),
        ("PGUSER", "app:Zx9-Secret!"),
    ])
    func aPasswordInAnotherKeyIsMasked(variable: String, value: String) throws {
        let (settings, _) = try load(environment: [variable: value, "POSTGRES_HOST": "db"])
        let report = try reports(settings) + "\n" + settings.connection.maskedURL
        expectNoSecret(report)
        #expect(report.contains("***"))
    }

    /// A host or user holding a URL or `user:password@`: refused, with the value masked and the fix named.
    @Test(arguments: [
        ("POSTGRES_HOST", "postgresql://app:Zx9-Secret!@db/prod"),
        ("POSTGRES_HOST", "app:Zx9-Secret!@db"),
        ("POSTGRES_HOST", "postgresql://app:Zx9-Secret!db/prod"),
        ("DATABASE_POSTGRES_USER", "app:Zx9-Secret!@db"),
        ("POSTGRES_USER", "postgresql://app:Zx9-Secret!@db/prod"),
        ("PGHOST", "app:Zx9-Secret!@db"),
        ("PGUSER", "postgresql://app:Zx9-Secret!@db"),
    ])
    func aHostOrUserCarryingAPasswordIsRefused(variable: String, value: String) throws {
        let (error, _) = try loadError(environment: [variable: value])
        #expect(error.problems.count == 1)
        let message = error.description
        #expect(message.hasPrefix("env \(variable): invalid value '"), "\(message)")
        #expect(message.contains("put a URL in DATABASE_URL"), "\(message)")
        #expect(!message.contains("Zx9"), "\(message)")
    }

    @Test func aHostCarryingAPasswordInTheFileIsRefusedAtItsLine() throws {
        let (error, path) = try loadError("postgres:\n  port: 5432\n  host: app:\(secret)@db\n")
        #expect(error.description.hasPrefix("\(path ?? ""):3: invalid value 'app:***@db' for postgres.host"))
    }

    @Test func aURLFollowedByConninfoOptionsIsRefused() throws {
        let (error, _) = try loadError(environment: ["DATABASE_URL": "postgresql://app@db/prod password=\(secret)"])
        #expect(
            error.description.hasPrefix(
                "env DATABASE_URL: invalid value 'postgresql://app@db/prod password=***' for database.url; expected a "
                    + "URL alone or a key=value conninfo string"), "\(error)")
        expectNoSecret(error.description)
        // A space in a URL without options is libpq's business: a database name with a space.
        let (settings, _) = try load(environment: ["DATABASE_URL": "postgresql://app@db/my db"])
        #expect(settings.connection["dbname"] == "my db")
    }

    /// A host or user the URL overrides is not refused (it is never used) but named in a warning, masked.
    @Test func warningsAboutIgnoredHostsAndUsersMaskThePasswordTheyCarry() throws {
        let (settings, _) = try load(environment: [
            "DATABASE_URL": "postgresql://app@db/prod", "POSTGRES_HOST": "app:\(secret)@db",
            "POSTGRES_USER": "postgresql://app:\(secret)@db/prod",
        ])
        #expect(settings.warnings.count == 2)
        #expect(settings.warnings.first?.contains("'app:***@db' is ignored") == true, "\(settings.warnings)")
        try expectNoSecret(reports(settings))
    }

    @Test func maskedURLHandlesEveryShape() {
        #expect(Masking.maskedURL("postgresql://u:p@h/db") == "postgresql://u:***@h/db")
        #expect(Masking.maskedURL("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db")
        #expect(Masking.maskedURL("postgresql://u:p?ss@h/db") == "postgresql://u:***@h/db")
        #expect(Masking.maskedURL("postgresql://u@h/db") == "postgresql://u@h/db")
        #expect(Masking.maskedURL("postgresql://h/db?password=p") == "postgresql://h/db?password=***")
        #expect(Masking.maskedURL("host=h password=p") == "host=h password=***")
    }
}
