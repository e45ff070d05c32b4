import Foundation
import Postgres

/// How values appear in `worker config`, warnings and errors: passwords never, URLs with their password masked.
enum Masking {
    /// `value` of `key` as it may be shown.
    static func display(_ value: String, for key: SettingKey) -> String {
        switch key {
        case .password: Redaction.mask
        case .url: maskedURL(value)
        default: value
        }
    }

    /// `value` with any password masked, be it a URL's user info or a conninfo `password=`.
    ///
    /// The user info runs to the *last* `@`, not stopping at `?`, `#` or `/`: a password with an unencoded `@`,
    /// `/`, `?` or `#` is malformed, but its text still reaches this function and must not show. Over-masking a
    /// query parameter that contains `@` is the price, and a harmless one.
    static func maskedURL(_ value: String) -> String {
        var masked = value
        if let userInfo = passwordRange(in: value) {
            masked = String(value[..<userInfo.lowerBound]) + Redaction.mask + String(value[userInfo.upperBound...])
        }
        return Redaction.redact(masked)
    }

    /// Text that may be (part of) the password in `value`, for scrubbing messages that quote the URL, such as
    /// libpq's parse errors: the whole candidate, its decoded form and the pieces libpq splits it into.
    static func passwordFragments(in value: String) -> [String] {
        guard let range = passwordRange(in: value) else { return [] }
        let password = String(value[range])
        let pieces = password.split(whereSeparator: { "?#/&=@:".contains($0) }).map(String.init)
        return ([password, password.removingPercentEncoding ?? password] + pieces).filter { $0.count >= 3 }
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

    /// `text` with every fragment replaced by the mask; for short machine-written text such as libpq's reasons.
    static func scrub(_ text: String, fragments: [String]) -> String {
        fragments.sorted { $0.count > $1.count }.reduce(text) { result, fragment in
            result.replacing(fragment, with: Redaction.mask)
        }
    }
}
