import PoolConfiguration

/// The pool's settings: each key from its highest rung, else its default in the table.
struct PoolResolution {
    var settings: PoolSettings
    var entries: [Setting]

    init(lookup: SettingLookup, problems: inout [SettingsError.Problem]) {
        let values = ResolvedKeys(SettingKey.poolKeys, lookup: lookup, problems: &problems)
        let minSize = values.number(.poolSize)
        let overflow = values.number(.maxOverflow)
        settings = PoolSettings(
            minSize: minSize,
            maxSize: minSize + overflow,
            acquireTimeout: values.duration(.poolTimeout),
            maxLifetime: values.durationOrNever(.poolRecycle),
            idleTimeout: values.durationOrNever(.idleTimeout),
            leakThreshold: values.durationOrNever(.leakThreshold),
            idleCheckAfter: values.duration(.idleCheckAfter)
        )
        if let problem = Self.sizeProblem(minSize: minSize, overflow: overflow, values: values) {
            problems.append(problem)
        }
        let maxSize = settings.maxSize
        entries = SettingKey.poolKeys.map { key in
            values.entry(key, note: key == .maxOverflow ? "max size \(maxSize)" : nil)
        }
    }

    /// The pool must be able to open at least one connection, and no more than PostgreSQL could ever accept.
    private static func sizeProblem(minSize: Int, overflow: Int, values: ResolvedKeys) -> SettingsError.Problem? {
        let maxSize = minSize + overflow
        guard maxSize < 1 || maxSize > ValueRule.maximumConnections else { return nil }
        let poolSource = values.source(of: .poolSize)
        let overflowSource = values.source(of: .maxOverflow)
        let expected =
            maxSize < 1
            ? "pool_size + max_overflow of at least 1 (pool_size may be 0: connections then open on demand)"
            : "pool_size + max_overflow of at most \(ValueRule.maximumConnections), PostgreSQL's limit"
        return SettingsError.Problem(
            key: "pool_size + max_overflow", source: poolSource == .default ? overflowSource : poolSource,
            value: "\(minSize) + \(overflow)",
            description:
                "\(poolSource) and \(overflowSource): invalid value '\(minSize) + \(overflow)' for "
                + "pool_size + max_overflow (the maximum pool size); expected \(expected)")
    }
}
