/// One pool's settings and counters, under the names the Python service's statistics and psycopg_pool use, so
/// dashboards and habits carry over. Times are milliseconds; `timeout` and `recycle` are seconds.
public struct PoolStatistics: Sendable, Codable, Equatable {
    public var minSize: Int
    public var maxSize: Int
    public var timeout: Double
    /// Seconds; 0 means connections are never recycled.
    public var recycle: Double
    /// Holders of a reference to this pool (see ``GlobalConnectionManager``).
    public var activeReferences: Int
    public var poolClosed: Bool
    /// Connections open or opening.
    public var poolSize: Int
    /// Idle connections ready for a lease.
    public var poolAvailable: Int
    /// Connections leased now.
    public var leased: Int
    /// Most connections leased at once.
    public var peakLeased: Int
    /// Lease requests so far.
    public var requestsNum: Int
    /// Requests waiting now.
    public var requestsWaiting: Int
    /// Total time requests spent waiting.
    public var requestsWaitMs: Double
    /// Requests that timed out.
    public var requestsTimeouts: Int
    /// Total time connections spent leased.
    public var usageMs: Double
    /// Connections returned inside a transaction (rolled back) or broken.
    public var returnsBad: Int
    /// Connections opened so far.
    public var connectionsNum: Int
    /// Failed attempts to open a connection.
    public var connectionsErrors: Int
    /// Connections found broken on return (killed backend, lost socket).
    public var connectionsLost: Int

    enum CodingKeys: String, CodingKey {
        case minSize = "min_size"
        case maxSize = "max_size"
        case timeout, recycle
        case activeReferences = "active_references"
        case poolClosed = "pool_closed"
        case poolSize = "pool_size"
        case poolAvailable = "pool_available"
        case leased
        case peakLeased = "peak_leased"
        case requestsNum = "requests_num"
        case requestsWaiting = "requests_waiting"
        case requestsWaitMs = "requests_wait_ms"
        case requestsTimeouts = "requests_timeouts"
        case usageMs = "usage_ms"
        case returnsBad = "returns_bad"
        case connectionsNum = "connections_num"
        case connectionsErrors = "connections_errors"
        case connectionsLost = "connections_lost"
    }
}
