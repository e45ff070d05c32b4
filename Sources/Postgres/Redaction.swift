import Foundation

/// Removes passwords from text that is about to be shown: URLs, conninfo strings and known secrets.
///
/// Every message that can carry connection details (libpq's own errors, our errors, logs and reports) goes through
/// here, because libpq quotes parts of a malformed URL back in its errors and a password must never reach a
/// terminal, a log file or a CI transcript.
public enum Redaction {
    /// What replaces a password.
    public static let mask = "***"

    /// Masks every password in `text`: URL user info (`scheme://user:secret@host`), `password=` and `sslpassword=`
    /// in conninfo strings and URL query parameters, and each literal `secret` (also percent-encoded).
    public static func redact(_ text: String, secrets: [String] = []) -> String {
        hide(secrets, in: maskPasswordKeywords(in: maskURLUserInfo(in: text)))
    }

    /// `text` with each of `secrets` masked wherever it appears, also percent-encoded; nothing else is touched.
    public static func hide(_ secrets: [String], in text: String) -> String {
        var result = text
        for secret in secrets where !secret.isEmpty {
            result = result.replacingAll(secret, with: mask)
            let encoded = percentEncoded(secret)
            if encoded != secret { result = result.replacingAll(encoded, with: mask) }
        }
        return result
    }

    /// One value (a host, a user, a database name, any setting) as it may be shown: the password it seems to carry
    /// where none belongs (see ``apparentPasswordRange(in:keyword:)``) masked, then the value masked as
    /// ``redact(_:secrets:)`` masks any text.
    public static func maskValue(_ value: String, keyword: String? = nil) -> String {
        var masked = value
        if let range = apparentPasswordRange(in: value, keyword: keyword) { masked.replaceSubrange(range, with: mask) }
        return redact(masked)
    }

    /// The password `value` seems to carry, as written and percent-decoded, for ``redact(_:secrets:)`` to hide in
    /// messages that quote the value back (libpq's "could not translate host name", the server's "password
    /// authentication failed for user"). Empty when there is none.
    public static func apparentSecrets(in value: String, keyword: String? = nil) -> [String] {
        guard let range = apparentPasswordRange(in: value, keyword: keyword), !range.isEmpty else { return [] }
        let secret = String(value[range])
        let decoded = secret.removingPercentEncoding ?? secret
        return decoded == secret ? [secret] : [secret, decoded]
    }

    /// Where the password is in a value that holds user info, given under any key: between the first `:` and the
    /// last `@` after `://` (`postgresql://user:secret@host/db` pasted as a host), or from the start when there is no
    /// scheme (`user:secret@host`); for the `user` keyword, also all after the first `:` (`user:secret`). Nil when
    /// the value holds none.
    public static func apparentPasswordRange(in value: String, keyword: String? = nil) -> Range<String.Index>? {
        let userInfo = value.range(of: "://").map { value[$0.upperBound...] } ?? value[...]
        if let at = userInfo.lastIndex(of: "@"), let colon = userInfo[..<at].firstIndex(of: ":") {
            return value.index(after: colon)..<at
        }
        if keyword == "user", !value.contains("://"), let colon = value.firstIndex(of: ":") {
            return value.index(after: colon)..<value.endIndex
        }
        return nil
    }

    /// Whether `value` holds what only a URL's user info should: it is a URL, or has a `:` followed by an `@`.
    /// A host or a user name never does, so such a value under those keys is a URL or a password in the wrong place.
    public static func carriesCredentials(_ value: String) -> Bool {
        guard !value.contains("://") else { return true }
        return value.firstIndex(of: ":").map { value[$0...].contains("@") } ?? false
    }

    /// `text`, a URL or conninfo string that libpq rejected or that failed a check, as it may be shown, and the pieces
    /// hidden from it, for ``scrub(_:hiding:)`` on messages that quote it.
    ///
    /// A password cannot always be located in text that does not parse: `postgresql://u:secret host/db` has no `@`,
    /// and `pasword=secret` is no keyword. So what could be one is hidden: in a URL with user info, the password (to
    /// the last `@`) and `password=` parameters; in a URL without, all after the first name; in a conninfo string,
    /// every value but those of keywords that never hold a secret.
    public static func maskUnparsed(_ text: String) -> (shown: String, hidden: [String]) {
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            if let at = rest.lastIndex(of: "@") {
                var shown = String(text[..<at])
                var hidden: [String] = []
                if let colon = rest[..<at].firstIndex(of: ":") {
                    shown = text[...colon] + mask
                    hidden = fragments(of: String(rest[rest.index(after: colon)..<at]))
                }
                for parameter in rest[at...].split(whereSeparator: { $0 == "?" || $0 == "&" }) {
                    let parts = parameter.split(separator: "=", maxSplits: 1)
                    if parts.count == 2, parts[0].hasSuffix("password") { hidden += fragments(of: String(parts[1])) }
                }
                return (maskPasswordKeywords(in: shown + rest[at...]), hidden)
            }
            let nameEnd = rest.firstIndex(where: { ":/?#".contains($0) }) ?? rest.endIndex
            var shown = String(text[..<nameEnd])
            var hidden = rest[nameEnd...]
            if hidden.first == ":" {
                shown += ":"
                hidden = hidden.dropFirst()
            }
            guard !hidden.isEmpty else { return (shown, []) }
            return (shown + mask, fragments(of: String(hidden)))
        }
        var shown: [String] = []
        var hidden: [String] = []
        for token in text.split(whereSeparator: \.isWhitespace) {
            let parts = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let keyword = parts[0].lowercased()
            if parts.count == 2, harmlessKeywords.contains(keyword), parts[1].first != "'" {
                shown.append(String(token))
            } else if parts.count == 2, keyword.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "_") }) {
                shown.append(parts[0] + "=" + mask)
                hidden += fragments(of: String(parts[1]))
            } else {
                shown.append(mask)
                hidden += fragments(of: String(token))
            }
        }
        return (shown.joined(separator: " "), hidden)
    }

    /// Keywords whose values are shown even in a conninfo string that does not parse.
    private static let harmlessKeywords: Set<String> = [
        "host", "hostaddr", "port", "dbname", "user", "sslmode", "application_name", "connect_timeout",
        "target_session_attrs",
    ]

    /// `text` as it may appear in a message: whole, decoded, and split at URL and conninfo punctuation. Pieces
    /// shorter than three characters are left out: scrubbing them would mangle the message and shows nothing.
    private static func fragments(of text: String) -> [String] {
        let pieces = text.split(whereSeparator: { "?#/&=@:'\"".contains($0) || $0.isWhitespace }).map(String.init)
        return ([text, text.removingPercentEncoding ?? text] + pieces).filter { $0.count >= 3 }
    }

    /// `text` with every fragment replaced by the mask, longest first; for short machine-written text such as
    /// libpq's reasons, which quote pieces of the string they rejected.
    static func scrub(_ text: String, hiding fragments: [String]) -> String {
        fragments.sorted { $0.count > $1.count }.reduce(text) { $0.replacingAll($1, with: mask) }
    }

    /// Masks the password of each `scheme://user:password@` in `text`.
    ///
    /// A password may hold an unencoded `@`, `/` or `:`; libpq refuses such a URL, but its text still reaches error
    /// messages, so the mask runs to the last `@` before the query string rather than to the first.
    static func maskURLUserInfo(in text: String) -> String {
        var output = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            output += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let end =
                rest.firstIndex(where: { $0 == "?" || $0.isWhitespace || $0 == "\"" || $0 == "'" }) ?? rest.endIndex
            let authority = rest[..<end]
            guard let at = authority.lastIndex(of: "@"),
                let colon = authority[..<at].firstIndex(of: ":")
            else { continue }
            output += rest[..<colon]
            output += ":" + mask
            rest = rest[at...]
        }
        return output + rest
    }

    /// Masks the values of `password=` and `sslpassword=` pairs, quoted or not, in conninfo strings and URL queries.
    static func maskPasswordKeywords(in text: String) -> String {
        var output = ""
        var rest = Substring(text)
        while let keyword = rest.firstRange(of: "password") {
            output += rest[..<keyword.upperBound]
            rest = rest[keyword.upperBound...]
            let afterSpaces = rest.drop(while: { $0 == " " })
            guard afterSpaces.first == "=" else { continue }
            output += rest[..<afterSpaces.startIndex] + "="
            var value = afterSpaces.dropFirst().drop(while: { $0 == " " })
            output += rest[afterSpaces.index(after: afterSpaces.startIndex)..<value.startIndex]
            if value.first == "'" {
                value = value.dropFirst()
                var escaped = false
                while let character = value.first {
                    value = value.dropFirst()
                    if escaped {
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "'" {
                        break
                    }
                }
            } else {
                value = value.drop(while: { !$0.isWhitespace && $0 != "&" && $0 != "\"" })
            }
            output += mask
            rest = value
        }
        return output + rest
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters, as a password appears inside a URL.
    static func percentEncoded(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                output.unicodeScalars.append("%")
                output.unicodeScalars.append(hex[Int(byte >> 4)])
                output.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return output
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var output = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            output += rest[..<range.lowerBound]
            output += replacement
            rest = rest[range.upperBound...]
        }
        return output + rest
    }
}
