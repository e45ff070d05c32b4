import CLibPQ
import Glibc

/// The state a pool asks about between leases. Both answers take the claim without waiting for it (rule 1 of
/// ``PostgresConnection``'s threads and locks), so a connection in use answers at once.
extension PostgresConnection {
    /// How the server sees the current transaction.
    public enum TransactionStatus: Sendable, Equatable {
        /// No transaction is open.
        case idle
        /// A statement is running (or another task holds the connection).
        case active
        /// Inside a transaction block.
        case inTransaction
        /// Inside a failed transaction block: only `ROLLBACK` will be accepted.
        case failed
        /// The connection is broken.
        case unknown
    }

    /// The transaction state; `.active` while another task holds the connection.
    public var transactionStatus: TransactionStatus {
        guard claim.take() else { return .active }
        defer { release() }
        if broken || claim.isClosed { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failed
        default: return .unknown
        }
    }

    /// Whether the connection can run statements, checked without blocking: input the server sent while the
    /// connection sat idle is read first, so a backend that was terminated or a server that went away shows here.
    /// False while another task holds the connection.
    public var isUsable: Bool {
        guard claim.take() else { return false }
        defer { release() }
        if broken || claim.isClosed { return false }
        // A terminated backend sends its FATAL message and then closes: reading until the socket has nothing more
        // (at most a few rounds; input on an idle connection is rare) reaches the end of stream, which breaks it.
        // Its FATAL message alone is enough (see ``NoticeSink``): the end of stream may not have arrived yet.
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        var rounds = 0
        while rounds < 4, !broken, poll(&descriptor, 1, 0) > 0 {
            if PQconsumeInput(handle) == 0 { broken = true }
            // PQconsumeInput only reads; PQisBusy parses, which hands a FATAL message to the notice receiver.
            _ = PQisBusy(handle)
            rounds += 1
        }
        if PQstatus(handle) != CONNECTION_OK || noticeSink.serverEndedSession { broken = true }
        return !broken
    }

    /// Whether the connection is closed: its libpq handle finished and its socket given back. A connection that
    /// ``close()`` was asked to close while another task used it is closed once that task lets go of it.
    public var isClosed: Bool { claim.isClosed }
}
