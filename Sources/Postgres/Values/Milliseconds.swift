extension Duration {
    /// Whole milliseconds, rounded up and at most `Int32.max` (the largest a setting such as `statement_timeout`
    /// takes, about 24.8 days); 0 for durations of zero or less. Those settings read 0 as "no limit", which a short
    /// positive duration must never become.
    public var settingMilliseconds: Int64 {
        guard self > .zero else { return 0 }
        let (seconds, attoseconds) = components
        let limit = Int64(Int32.max)
        guard seconds < limit / 1000 else { return limit }
        let perMillisecond: Int64 = 1_000_000_000_000_000
        return min(limit, seconds * 1000 + (attoseconds + perMillisecond - 1) / perMillisecond)
    }
}
