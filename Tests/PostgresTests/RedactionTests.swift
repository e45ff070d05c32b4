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

    @Test func masksKnownSecretsAnywhere() {
        let text = "oops: Zq9!x@y and Zq9%21x%40y"
        #expect(Redaction.redact(text, secrets: ["Zq9!x@y"]) == "oops: *** and ***")
    }
}
