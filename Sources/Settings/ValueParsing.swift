import Postgres

/// A value that passed its rule.
enum ParsedValue: Equatable {
    case text(String)
    case wholeNumber(Int)
    case seconds(Double)
    case decimal(Double)

    /// The value as libpq and `worker config` spell it: `2.5`, `30`, never `30.0`.
    var text: String {
        switch self {
        case .text(let text): text
        case .wholeNumber(let number): String(number)
        case .seconds(let number), .decimal(let number): formatNumber(number)
        }
    }
}

/// `30` rather than `30.0`, `2.5` as is.
func formatNumber(_ number: Double) -> String {
    if number == number.rounded(), abs(number) <= Double(ValueRule.maximumSeconds) {
        return String(Int(number))
    }
    return String(number)
}

extension ValueRule {
    /// `value` if it passes this rule, else nil.
    func parse(_ value: String) -> ParsedValue? {
        let trimmed = value.trimmingWhitespace
        switch self {
        case .text:
            return .text(value)
        case .wholeNumber(let range, _):
            return Int(trimmed).flatMap { range.contains($0) ? .wholeNumber($0) : nil }
        case .seconds(let zeroMeans, let maximum):
            return Double(trimmed).flatMap { seconds in
                let minimumOK = zeroMeans == nil ? seconds > 0 : seconds >= 0
                return seconds.isFinite && minimumOK && seconds <= Double(maximum) ? .seconds(seconds) : nil
            }
        case .decimal(let range):
            return Double(trimmed).flatMap { range.contains($0) ? .decimal($0) : nil }
        case .choice(let choices):
            return choices.contains(trimmed) ? .text(trimmed) : nil
        case .shortText(let maxBytes, _):
            return value.utf8.count <= maxBytes ? .text(value) : nil
        case .name:
            return Redaction.carriesCredentials(value) ? nil : .text(value)
        case .identifier:
            let isStart: (UInt8) -> Bool = {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_")
            }
            let isDigit: (UInt8) -> Bool = { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            let bytes = trimmed.utf8
            guard let first = bytes.first, bytes.count <= Self.maximumIdentifierBytes, isStart(first),
                bytes.dropFirst().allSatisfy({ isStart($0) || isDigit($0) })
            else { return nil }
            return .text(trimmed)
        }
    }
}

extension RawSetting {
    /// The value checked against its key's rule; nil after appending a problem that names the key, the source, the
    /// masked value and what is accepted.
    func parsed(problems: inout [SettingsError.Problem]) -> ParsedValue? {
        let rule = key.rule
        if let result = rule.parse(value) { return result }
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
        return nil
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines: `$(cat file)` and YAML block scalars leave them.
    fileprivate var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
