/// Values as messages quote them: in single quotes, control characters escaped, long text shortened, so one problem
/// stays one readable line whatever the input held (a newline in a value, a 100 KB string, a NUL byte).
public enum Quote {
    /// Longer than any real path (Linux's PATH_MAX is 4096 bytes, but nobody writes a path of 300 characters by hand),
    /// short enough that a generated one does not flood the report.
    private static let pathLimit = 300

    /// A path: in full as far as anyone writes one, since a shortened path would not say which file.
    public static func path(_ path: String) -> String {
        text(path, limit: pathLimit)
    }

    /// `value` in single quotes, escaped, cut after `limit` characters with the full length noted.
    public static func text(_ value: String, limit: Int = 60) -> String {
        let (escaped, shortened) = escape(value, limit: limit, quote: "'")
        return shortened ? "'\(escaped)…' (\(value.count) characters)" : "'\(escaped)'"
    }

    /// `message`, from a library or the system, made one line: control characters escaped, cut after `limit`
    /// characters. Unlike ``text(_:limit:)`` it is not quoted: it is prose, not a value.
    public static func line(_ message: String, limit: Int = 300) -> String {
        let (escaped, shortened) = escape(message, limit: limit, quote: nil)
        return shortened ? escaped + "…" : escaped
    }

    private static func escape(_ value: String, limit: Int, quote: Character?) -> (String, shortened: Bool) {
        let shown = value.prefix(limit)
        var escaped = ""
        for character in shown {
            switch character {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\r\n": escaped += "\\r\\n"
            case "\t": escaped += "\\t"
            case quote: escaped += "\\\(character)"
            default:
                // Per scalar: a control character can carry combining marks and still be one Character.
                for scalar in character.unicodeScalars {
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        escaped += "\\u{\(String(scalar.value, radix: 16))}"
                    } else {
                        escaped.unicodeScalars.append(scalar)
                    }
                }
            }
        }
        return (escaped, shown.endIndex < value.endIndex)
    }
}
