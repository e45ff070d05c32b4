import ConnectionPool
import Logging
import Postgres
import Support

/// A batch lock this run took: renewed every third of its lease by a heartbeat task that leases a connection of the
/// run's pool for one statement, until ``release()``.
///
/// A renewal that fails (the database unreachable for a moment) is logged and tried again a third of a lease later;
/// the lease gives room for two such misses. A renewal that finds the row gone or another run's token in it means
/// the lease ran out and another run took the lock (or the row was deleted): that is logged as critical, ``isLost``
/// turns true (the batch starts no further job) and the heartbeat stops.
public final class HeldBatchLock: Sendable {
    public let lock: BatchLock
    /// This run's proof of ownership: every renewal and the release name it, so none touches another run's lock.
    let token: String
    private let pool: ConnectionPool
    private let logger: Logger

    private struct State {
        var lost = false
        var heartbeat: Task<Void, Never>?
    }

    private let state = Locked(State())

    init(lock: BatchLock, token: String, pool: ConnectionPool, logger: Logger) {
        self.lock = lock
        self.token = token
        self.pool = pool
        self.logger = logger
        let heartbeat = Task { [weak self] in
            let interval = lock.lease / 3
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let self, await self.renew() else { return }
            }
        }
        state.withLock { $0.heartbeat = heartbeat }
    }

    /// Whether a renewal found the lock taken by another run (or its row deleted).
    public var isLost: Bool { state.withLock { $0.lost } }

    /// Stops the heartbeat and deletes the lock's row if it is still this run's. A release that cannot reach the
    /// database is logged; the lock then frees itself when its lease runs out.
    public func release() async {
        let heartbeat = state.withLock { state in
            defer { state.heartbeat = nil }
            return state.heartbeat
        }
        heartbeat?.cancel()
        await heartbeat?.value
        do {
            try await pool.withConnection(holder: "batch lock \(lock.key) release") { connection in
                try await connection.query(
                    "DELETE FROM \(lock.table) WHERE key = $1::text AND token = $2::text", [lock.key, token])
            }
        } catch {
            logger.warning(
                "cannot release the batch lock \(lock.key) (\(error)); it frees itself when its lease of \(lock.lease) runs out"
            )
        }
    }

    /// One heartbeat; false once the lock is known lost, which ends the heartbeat.
    private func renew() async -> Bool {
        let renewed: Bool
        do {
            renewed = try await pool.withConnection(holder: "batch lock \(lock.key) heartbeat") { connection in
                try await connection.query(
                    "UPDATE \(lock.table) SET heartbeat_at = now() WHERE key = $1::text AND token = $2::text",
                    [lock.key, token]
                ).rowsAffected == 1
            }
        } catch {
            // Cancelled by release(), or the database out of reach: the next beat tries again.
            if !Task.isCancelled {
                logger.warning("cannot renew the batch lock \(lock.key) (\(error)); trying again in \(lock.lease / 3)")
            }
            return true
        }
        guard !renewed else { return true }
        state.withLock { $0.lost = true }
        logger.critical(
            "the batch lock \(lock.key) was lost: its lease of \(lock.lease) ran out without a heartbeat and another run took it, or its row was deleted; no further job of this batch starts"
        )
        return false
    }
}
