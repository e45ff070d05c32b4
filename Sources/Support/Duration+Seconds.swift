extension Duration {
    /// The duration in fractional seconds, the unit reports and settings use.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in fractional milliseconds, the unit of the pool's wait and usage figures.
    public var milliseconds: Double { seconds * 1000 }
}
