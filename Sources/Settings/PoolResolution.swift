import ConnectionPool
import Support

/// The pool's settings: each key from its highest rung, else `PoolSettings`' default.
struct PoolResolution {
    var settings: PoolSettings
    var entries: [Setting] = []

    init(lookup: SettingLookup, problems: inout [SettingsError.Problem]) {
        let defaults = PoolSettings()
        var found: [SettingKey: (value: ParsedValue, raw: RawSetting)] = [:]
        for key in SettingKey.poolKeys {
            if let raw = lookup.candidates(for: key).first, let value = raw.parsed(problems: &problems) {
                found[key] = (value, raw)
            }
        }
        func number(_ key: SettingKey) -> Int? {
            if case .wholeNumber(let number)? = found[key]?.value { return number }
            return nil
        }
        func duration(_ key: SettingKey, default fallback: Duration?) -> Duration? {
            guard case .seconds(let seconds)? = found[key]?.value else { return fallback }
            return seconds == 0 ? nil : .seconds(seconds)
        }
        let minSize = number(.poolSize) ?? defaults.minSize
        let overflow = number(.maxOverflow) ?? (defaults.maxSize - defaults.minSize)
        settings = PoolSettings(
            minSize: minSize,
            maxSize: minSize + overflow,
            acquireTimeout: duration(.poolTimeout, default: defaults.acquireTimeout) ?? defaults.acquireTimeout,
            maxLifetime: duration(.poolRecycle, default: defaults.maxLifetime),
            idleTimeout: duration(.idleTimeout, default: defaults.idleTimeout),
            leakThreshold: duration(.leakThreshold, default: defaults.leakThreshold)
        )
        if let problem = Self.sizeProblem(minSize: minSize, overflow: overflow, found: found) {
            problems.append(problem)
        }
        let defaultTexts: [SettingKey: String] = [
            .poolSize: String(defaults.minSize),
            .maxOverflow: String(defaults.maxSize - defaults.minSize),
            .poolTimeout: secondsText(defaults.acquireTimeout),
            .poolRecycle: secondsText(defaults.maxLifetime),
            .idleTimeout: secondsText(defaults.idleTimeout),
            .leakThreshold: secondsText(defaults.leakThreshold),
        ]
        for key in SettingKey.poolKeys {
            let text = found[key]?.value.text ?? defaultTexts[key] ?? ""
            var note: String? = nil
            if key == .maxOverflow {
                note = "max size \(settings.maxSize)"
            } else if text == "0", case .seconds(let zeroMeans?) = key.rule {
                note = zeroMeans
            }
            entries.append(
                Setting(key: key.rawValue, value: text, source: found[key]?.raw.source ?? .default, note: note))
        }
    }

    /// The pool must be able to open at least one connection, and no more than PostgreSQL could ever accept.
    private static func sizeProblem(
        minSize: Int, overflow: Int, found: [SettingKey: (value: ParsedValue, raw: RawSetting)]
    ) -> SettingsError.Problem? {
        let maxSize = minSize + overflow
        guard maxSize < 1 || maxSize > ValueRule.maximumConnections else { return nil }
        let poolSource = found[.poolSize]?.raw.source ?? .default
        let overflowSource = found[.maxOverflow]?.raw.source ?? .default
        let expected =
            maxSize < 1
            ? "pool_size + max_overflow of at least 1 (pool_size may be 0: connections then open on demand)"
            : "pool_size + max_overflow of at most \(ValueRule.maximumConnections), PostgreSQL's limit"
        return SettingsError.Problem(
            key: "pool_size + max_overflow", source: found[.poolSize]?.raw.source ?? found[.maxOverflow]?.raw.source,
            value: "\(minSize) + \(overflow)",
            description:
                "\(poolSource) and \(overflowSource): invalid value '\(minSize) + \(overflow)' for "
                + "pool_size + max_overflow (the maximum pool size); expected \(expected)")
    }
}

/// A duration as whole or fractional seconds; nil (never) as `0`, which is how the configuration spells it.
private func secondsText(_ duration: Duration?) -> String {
    guard let duration else { return "0" }
    return formatSeconds(duration.seconds)
}
