import Postgres

/// An operator's request to stop (SIGINT, SIGTERM): no new job starts and no new unit is taken; units already
/// running finish, or are cancelled (and roll back) when the grace period ends.
public final class ShutdownRequest: Sendable {
    private let requested = Locked<Int32?>(nil)

    public init() {}

    /// Records the request, with the signal that made it; the first one counts.
    public func request(signal: Int32) {
        requested.withLock { $0 = $0 ?? signal }
    }

    /// The signal that asked for the shutdown, if one did.
    public var signal: Int32? { requested.withLock { $0 } }

    public var isRequested: Bool { signal != nil }
}
