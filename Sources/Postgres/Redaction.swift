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
        var result = maskURLUserInfo(in: text)
        result = maskPasswordKeywords(in: result)
        for secret in secrets where !secret.isEmpty {
            result = result.replacingAll(secret, with: mask)
            let encoded = percentEncoded(secret)
            if encoded != secret { result = result.replacingAll(encoded, with: mask) }
        }
        return result
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
