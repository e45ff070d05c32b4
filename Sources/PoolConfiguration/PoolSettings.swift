/// How one pool behaves. The names in parentheses are the configuration keys (see `config.yaml`).
public struct PoolSettings: Sendable, Equatable {
    /// Connections opened when the pool starts and kept open (`pool_size`).
    public var minSize: Int
    /// Connections the pool never exceeds, also under contention (`pool_size` + `max_overflow`).
    public var maxSize: Int
    /// Longest wait for a lease before it fails with a timeout error (`pool_timeout`).
    public var acquireTimeout: Duration
    /// Age at which a connection is closed on return and replaced (`pool_recycle`); nil keeps connections forever.
    public var maxLifetime: Duration?
    /// Idle time after which connections above `minSize` are closed (`idle_timeout`); nil never shrinks the pool.
    public var idleTimeout: Duration?
    /// Lease age at which a warning names the holder and call site (`leak_threshold`); nil disables the warning.
    public var leakThreshold: Duration?

    public init(
        minSize: Int = 10,
        maxSize: Int = 30,
        acquireTimeout: Duration = .seconds(30),
        maxLifetime: Duration? = .seconds(3600),
        idleTimeout: Duration? = .seconds(300),
        leakThreshold: Duration? = .seconds(60)
    ) {
        self.minSize = minSize
        self.maxSize = maxSize
        self.acquireTimeout = acquireTimeout
        self.maxLifetime = maxLifetime
        self.idleTimeout = idleTimeout
        self.leakThreshold = leakThreshold
    }
}
