/// Keys taken as they are: each from its highest rung, else from its default in the table. Every key but the
/// connection's, which a URL supplies parts of (``ConnectionResolution``).
struct ResolvedKeys {
    private var values: [SettingKey: ParsedValue] = [:]
    private var sources: [SettingKey: SettingSource] = [:]

    init(_ keys: [SettingKey], lookup: SettingLookup, problems: inout [SettingsError.Problem]) {
        for key in keys {
            let found = lookup.candidates(for: key).first
            // An invalid value is a problem, which stops the load; the default stands in for it meanwhile, so checks
            // that combine keys (pool_size + max_overflow) do not add problems of their own.
            let value =
                found?.parsed(problems: &problems)
                ?? Self.defaultValue(key.definition, of: key.shownName, problems: &problems)
            values[key] = value
            sources[key] = value == nil ? nil : found?.source ?? .default
        }
    }

    /// The default of a row of the table, which must pass the row's own rule: a problem otherwise, so a bad row
    /// stops the program at once rather than lending a key a value it would refuse from anyone else.
    static func defaultValue(_ definition: SettingDefinition, of name: String, problems: inout [SettingsError.Problem])
        -> ParsedValue?
    {
        guard let text = definition.defaultValue else { return nil }
        guard let value = definition.rule.parse(text) else {
            problems.append(
                .invalidValue(key: name, source: .default, value: text, expected: definition.rule.expected))
            return nil
        }
        return value
    }

    /// Where `key`'s value came from.
    func source(of key: SettingKey) -> SettingSource {
        sources[key] ?? .default
    }

    /// The row `worker config` shows for `key`: its value, its source, and what a zero means; `note` comes first.
    func entry(_ key: SettingKey, note: String? = nil) -> Setting {
        let value = values[key]
        var notes = [note].compactMap { $0 }
        if value?.text == "0" {
            switch key.rule {
            case .seconds(let zeroMeans?, _), .wholeNumber(_, let zeroMeans?): notes.append(zeroMeans)
            default: break
            }
        }
        return Setting(
            key: key.shownName, value: value?.text, source: source(of: key),
            note: notes.isEmpty ? nil : notes.joined(separator: ", "))
    }

    // The typed reads below are made only once the load found no problems, when every key has a value of its rule's
    // kind; the fallbacks are never seen.

    func number(_ key: SettingKey) -> Int {
        guard case .wholeNumber(let number)? = values[key] else { return 0 }
        return number
    }

    func text(_ key: SettingKey) -> String {
        values[key]?.text ?? ""
    }

    func decimal(_ key: SettingKey) -> Double {
        guard case .decimal(let number)? = values[key] else { return 0 }
        return number
    }

    /// Seconds as a duration, to the nanosecond: `0.2` is exactly 200 ms, as a `Double` is not.
    func duration(_ key: SettingKey) -> Duration {
        guard case .seconds(let seconds)? = values[key] else { return .zero }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// A duration where 0 means "never" (nil).
    func durationOrNever(_ key: SettingKey) -> Duration? {
        let duration = duration(key)
        return duration == .zero ? nil : duration
    }
}
