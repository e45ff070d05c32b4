import Foundation
import Testing

@testable import Postgres

@Suite struct RedactionTests {
    @Test(arguments: [
        ("postgresql://user:secret@host:5432/db", "postgresql://user:***@host:5432/db"),
        ("postgres://user:secret@host/db?sslmode=require", "postgres://user:***@host/db?sslmode=require"),
        ("postgresql://user:p%40ss%3Aw%2Fd@host/db", "postgresql://user:***@host/db"),
        ("postgresql://user:p@ss:w/d@host/db", "postgresql://user:***@host/db"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("postgresql://host/db?user=u&password=secret&port=1", "postgresql://host/db?user=u&password=***&port=1"),
        ("host=h password=secret dbname=d", "host=h password=*** dbname=d"),
        ("host=h password = 'se cr\\'et' dbname=d", "host=h password = *** dbname=d"),
        ("sslpassword=secret", "sslpassword=***"),
        (
            "failed for postgresql://a:b@h/d and postgresql://c:d@h/e",
            "failed for postgresql://a:***@h/d and postgresql://c:***@h/e"
        ),
        ("password authentication failed for user \"x\"", "password authentication failed for user \"x\""),
    ])
    func masksEveryForm(input: String, expected: String) {
        #expect(Redaction.redact(input) == expected)
    }

    /// A password pasted into a value other than the password: the value shows with it masked, whatever the key.
    @Test(arguments: [
        ("postgresql://sec:Zq9-pw@h/db", nil, "postgresql://sec:***@h/db"),
        ("sec:Zq9-pw@h", nil, "sec:***@h"),
        ("sec:Zq9-pw@h", "host", "sec:***@h"),
        ("sec:Zq9-pw", "user", "sec:***"),
        ("db password=Zq9-pw", "dbname", "db password=***"),
        ("host=h password='Zq9 pw'", "application_name", "host=h password=***"),
        // Nothing that looks like a password: shown as it is.
        ("sec:Zq9-pw", "dbname", "sec:Zq9-pw"),
        ("db.example.com", "host", "db.example.com"),
        ("fe80::1", "host", "fe80::1"),
    ])
    func masksThePasswordAValueCarries(value: String, keyword: String?, shown: String) {
        #expect(Redaction.maskValue(value, keyword: keyword) == shown)
        if shown != value {
            #expect(
                Redaction.redact(
                    "failed for user \"\(value)\"",
                    secrets: Redaction.apparentSecrets(
                        in: value, keyword: keyword)
                ).contains("Zq9") == false)
        }
    }

    @Test(arguments: [
        ("postgresql://h/db", true), ("u:p@h", true), ("u@h:5432", false), ("h:5432", false), ("fe80::1", false),
        ("/var/run/postgresql", false), ("alice", false),
    ])
    func carriesCredentialsFindsURLsAndUserInfo(value: String, carries: Bool) {
        #expect(Redaction.carriesCredentials(value) == carries)
    }

    @Test func masksKnownSecretsAnywhere() {
        let text = "oops: Zq9!x@y and Zq9%21x%40y"
        #expect(Redaction.redact(text, secrets: ["Zq9!x@y"]) == "oops: *** and ***")
    }
}

/// Strings libpq rejects, or reads otherwise than a person would: where the password is cannot be trusted, so what
/// could be it is hidden, and libpq's message about it is scrubbed of the same text.
@Suite struct UnparsedRedactionTests {
    static let secret = "Zx9-Secret!"

    @Test(arguments: [
        // No `@`: libpq takes the password for the host or port.
        ("postgresql://memory:Zx9-Secret!db.example.com:5432/memory", "postgresql://memory:***"),
        // Truncated mid percent-escape.
        ("postgres://memory:Zx9-Secret%2", "postgres://memory:***"),
        // With user info, only the password and password parameters go.
        ("postgresql://u:Zx9-Secret!@h/db?nonsense=1", "postgresql://u:***@h/db?nonsense=1"),
        ("postgresql://u:Zx?9-Secret!@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db?password=Zx9-Secret!&x=1", "postgresql://u@h/db?password=***&x=1"),
        // A misspelt keyword or a stray tab: only harmless keywords keep their values.
        ("host=h user=u pssword=Zx9-Secret! dbname=d", "host=h user=u pssword=*** dbname=d"),
        ("host=h pass\tword=Zx9-Secret!", "host=h *** word=***"),
        ("password = Zx9-Secret!", "*** =*** ***"),
        // No scheme separator: a conninfo string to libpq, one unparsable token here.
        ("postgres//memory:Zx9-Secret%21@h:5433/memory", "***"),
    ])
    func hidesWhatMayBeThePassword(input: String, shown: String) {
        let masked = Redaction.maskUnparsed(input)
        #expect(masked.shown == shown)
        let quoted = Redaction.scrub(
            "cannot use '\(input)' (decoded: \(input.removingPercentEncoding ?? ""))", hiding: masked.hidden)
        #expect(!quoted.contains("Secret"), "\(quoted)")
    }

    @Test(arguments: [
        "postgres://memory:Zx9-Secret%2",
        "postgresql://u:Zx9-Secret!@h/db?nonsense=1",
        "host=h user=u pssword=Zx9-Secret! dbname=d",
        "host=h pass\tword=Zx9-Secret!",
        "postgres//memory:Zx9-Secret%21@h:5433/memory",
    ])
    func libpqsRejectionDoesNotQuoteIt(input: String) throws {
        let error = try #require(throws: PostgresConnectionError.self) { try ConnectionConfiguration(input) }
        #expect(!error.message.contains("Secret"), "\(error.message)")
        #expect(!(error.target ?? "").contains("Secret"))
    }
}
