import Postgres

/// A value that passed its rule.
enum ParsedValue: Equatable {
    case text(String)
    case wholeNumber(Int)
    case seconds(Double)

    /// The value as libpq and `worker config` spell it: `2.5`, `30`, never `30.0`.
    var text: String {
        switch self {
        case .text(let text): text
        case .wholeNumber(let number): String(number)
        case .seconds(let seconds): formatSeconds(seconds)
        }
    }
}

/// `30` rather than `30.0`, `2.5` as is.
func formatSeconds(_ seconds: Double) -> String {
    if seconds == seconds.rounded(), abs(seconds) <= Double(ValueRule.maximumSeconds) {
        return String(Int(seconds))
    }
    return String(seconds)
}

extension RawSetting {
    /// The value checked against its key's rule; nil after appending a problem that names the key, the source, the
    /// masked value and what is accepted.
    func parsed(problems: inout [SettingsError.Problem]) -> ParsedValue? {
        let rule = key.rule
        let trimmed = value.trimmingWhitespace
        let result: ParsedValue?
        switch rule {
        case .text:
            result = .text(value)
        case .wholeNumber(let range, _):
            result = Int(trimmed).flatMap { range.contains($0) ? .wholeNumber($0) : nil }
        case .seconds(let zeroMeans):
            result = Double(trimmed).flatMap { seconds in
                let minimumOK = zeroMeans == nil ? seconds > 0 : seconds >= 0
                return seconds.isFinite && minimumOK && seconds <= Double(ValueRule.maximumSeconds)
                    ? .seconds(seconds) : nil
            }
        case .choice(let choices):
            result = choices.contains(trimmed) ? .text(trimmed) : nil
        case .shortText(let maxBytes, _):
            result = value.utf8.count <= maxBytes ? .text(value) : nil
        case .name:
            result = Redaction.carriesCredentials(value) ? nil : .text(value)
        }
        if result == nil {
            var expected = rule.expected
            if key == .port, value.hasPrefix("tcp://"), case .environment(let variable) = source {
                // Kubernetes injects <SERVICE>_PORT=tcp://ip:port for every Service, so a Service named `postgres`
                // sets POSTGRES_PORT behind the user's back.
                expected += " (Kubernetes sets \(variable)=tcp://… for a Service of that name; set it explicitly)"
            }
            problems.append(
                .invalidValue(
                    key: keyPath, source: source, value: shown ?? Masking.rejected(value, for: key), expected: expected)
            )
        }
        return result
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines: `$(cat file)` and YAML block scalars leave them.
    fileprivate var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
