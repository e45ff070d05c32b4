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

    @Test func maskedURLHandlesEveryShape() {
        #expect(Masking.maskedURL("postgresql://u:p@h/db") == "postgresql://u:***@h/db")
        #expect(Masking.maskedURL("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db")
        #expect(Masking.maskedURL("postgresql://u:p?ss@h/db") == "postgresql://u:***@h/db")
        #expect(Masking.maskedURL("postgresql://u@h/db") == "postgresql://u@h/db")
        #expect(Masking.maskedURL("postgresql://h/db?password=p") == "postgresql://h/db?password=***")
        #expect(Masking.maskedURL("host=h password=p") == "host=h password=***")
    }
}
