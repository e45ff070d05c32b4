/// A lease could not be had. The message names the pool (masked URL) and says why, so an operator can act on it.
public struct PoolError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// Every connection stayed leased for the whole `pool_timeout`.
        case timedOut = "timed out"
        /// The pool was closing or closed.
        case closed
        /// Connections could not be opened (see `underlying`).
        case connectFailed = "cannot connect"
    }

    public var kind: Kind
    public var message: String
    /// The connection error behind ``Kind/connectFailed``.
    public var underlying: (any Error)?

    public var description: String { message }
}
