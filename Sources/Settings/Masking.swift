import Foundation
import Postgres

/// How values appear in `worker config`, warnings and errors: passwords never, URLs with their password masked.
enum Masking {
    /// `value` of `key` as it may be shown.
    static func display(_ value: String, for key: SettingKey) -> String {
        switch key {
        case .password: Redaction.mask
        case .url: maskedURL(value)
        // Any value: a URL, a conninfo string or `user:secret@host` pasted under the wrong key must not show its
        // password either.
        default: Redaction.maskValue(value, keyword: key.libpqKeyword)
        }
    }

    /// `value` of `key`, refused by its check, as a problem shows it. A URL refused as a host or user may have no
    /// `@` to find its password by (`scheme://user:secret host`), so all that could be one is hidden.
    static func rejected(_ value: String, for key: SettingKey) -> String {
        if case .name = key.rule, value.contains("://") { return Redaction.maskUnparsed(value).shown }
        return display(value, for: key)
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

    /// Every password the settings give, whichever rung and whether used or not: password keys, `PGPASSWORD`, the
    /// passwords of URLs and conninfo strings, and those hosts and users seem to carry. Pieces shorter than three
    /// characters are left out, as ``Redaction`` leaves them out of its scrubbing: masking them everywhere would
    /// mangle every message.
    static func givenPasswords(lookup: SettingLookup, environment: [String: String]) -> [String] {
        var found = [environment["PGPASSWORD"]].compactMap { $0 }
        for key in SettingKey.allCases {
            for candidate in lookup.candidates(for: key) {
                switch key {
                case .password: found.append(candidate.value)
                case .url:
                    found += Redaction.apparentSecrets(in: candidate.value)
                    found += [(try? ConnectionConfiguration(candidate.value))?["password"]].compactMap { $0 }
                default: found += Redaction.apparentSecrets(in: candidate.value, keyword: key.libpqKeyword)
                }
            }
        }
        return found.filter { $0.count >= 3 }
    }

    /// What a reader would take for the password in a URL, decoded: the text between the first `:` after `://` and
    /// the last `@`. Nil when there is none.
    static func apparentPassword(in value: String) -> String? {
        guard value.contains("://"), let range = Redaction.apparentPasswordRange(in: value) else { return nil }
        return String(value[range]).removingPercentEncoding ?? String(value[range])
    }
}

extension SettingsError.Problem {
    /// This problem with each of `secrets` masked wherever it shows.
    func masking(_ secrets: [String]) -> Self {
        var masked = self
        masked.value = value.map { Redaction.hide(secrets, in: $0) }
        masked.description = Redaction.hide(secrets, in: description)
        return masked
    }
}

extension Setting {
    /// This setting with each of `secrets` masked in its value.
    func masking(_ secrets: [String]) -> Self {
        var masked = self
        masked.value = value.map { Redaction.hide(secrets, in: $0) }
        return masked
    }
}
