import Foundation
import Postgres

/// How values appear in `worker config`, warnings and errors: passwords never, URLs with their password masked.
enum Masking {
    /// `value` of `key` as it may be shown.
    static func display(_ value: String, for key: SettingKey) -> String {
        switch key {
        case .password: Redaction.mask
        case .url: maskedURL(value)
        // Any value: a URL pasted under the wrong key must not show its password either.
        default: Redaction.redact(value)
        }
    }

    /// `value` with any password masked, be it a URL's user info or a conninfo `password=`.
    ///
    /// The user info runs to the *last* `@`, not stopping at `?`, `#` or `/`: a password with an unencoded `@`,
    /// `/`, `?` or `#` is malformed, but its text still reaches this function and must not show. Over-masking a
    /// query parameter that contains `@` is the price, and a harmless one.
    static func maskedURL(_ value: String) -> String {
        hasUserInfo(value) ? Redaction.maskUnparsed(value).shown : Redaction.redact(value)
    }

    /// Whether `value` is a URL with user info (an `@` after `://`), which is where its password must be.
    static func hasUserInfo(_ value: String) -> Bool {
        guard let scheme = value.range(of: "://") else { return false }
        return value[scheme.upperBound...].contains("@")
    }

    /// What a reader would take for the password in a URL, decoded: the text between the first `:` after `://` and
    /// the last `@`. Nil when there is none.
    static func apparentPassword(in value: String) -> String? {
        passwordRange(in: value).map { String(value[$0]).removingPercentEncoding ?? String(value[$0]) }
    }

    /// The password between the first `:` of the user info and the last `@` after `://`.
    private static func passwordRange(in value: String) -> Range<String.Index>? {
        guard let scheme = value.range(of: "://"), let at = value[scheme.upperBound...].lastIndex(of: "@"),
            let colon = value[scheme.upperBound..<at].firstIndex(of: ":")
        else { return nil }
        return value.index(after: colon)..<at
    }
}
