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
    /// Idle time from which a connection is checked before it is leased (`idle_check_after`); zero checks every lease.
    ///
    /// The check (a non-blocking read of what the server sent while the connection sat idle) finds a backend that
    /// was terminated or a server that went away, so the caller gets a working connection instead of an error. It
    /// costs a system call, which on a busy pool is a tenth of a lease's CPU, for a connection that was in use a
    /// moment ago and so is almost certainly fine: HikariCP skips it within 500 ms of the last use, PgBouncer within
    /// 30 s (`server_check_delay`). A backend that ends within the window is found by the next statement instead,
    /// which fails as a lost connection (one that may pass: the batch retries it).
    public var idleCheckAfter: Duration

    public init(
        minSize: Int = 10,
        maxSize: Int = 30,
        acquireTimeout: Duration = .seconds(30),
        maxLifetime: Duration? = .seconds(3600),
        idleTimeout: Duration? = .seconds(300),
        leakThreshold: Duration? = .seconds(60),
        idleCheckAfter: Duration = .milliseconds(500)
    ) {
        self.minSize = minSize
        self.maxSize = maxSize
        self.acquireTimeout = acquireTimeout
        self.maxLifetime = maxLifetime
        self.idleTimeout = idleTimeout
        self.leakThreshold = leakThreshold
        self.idleCheckAfter = idleCheckAfter
    }
}
