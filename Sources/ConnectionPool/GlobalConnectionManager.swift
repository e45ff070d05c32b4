import Foundation
import Logging
import PoolConfiguration
import Postgres
import Support

/// One pool per database for the whole process, shared by every holder and closed when the last one lets go.
///
/// This is what keeps a batch from exhausting the server: holders (jobs, stores) ask for the pool of a database instead
/// of making their own, so a hundred holders still open at most `maxSize` connections.
public final class GlobalConnectionManager: Sendable {
    /// The process's manager.
    public static let shared = GlobalConnectionManager()

    /// Identifies a database: pools are shared by host, port, database and user.
    public struct DatabaseKey: Hashable, Sendable {
        public var host: String
        public var port: String
        public var database: String
        public var user: String
    }

    /// A holder's claim on a pool; give it back with ``GlobalConnectionManager/release(_:)``.
    public struct Reference: Sendable, Hashable {
        public let id: Int
        public let holder: String
        public let key: DatabaseKey
        public let pool: ConnectionPool

        public static func == (left: Reference, right: Reference) -> Bool { left.id == right.id }
        public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    }

    private struct Entry: Sendable {
        var pool: ConnectionPool
        var holders: [Int: String] = [:]
    }

    private struct State: Sendable {
        var entries: [DatabaseKey: Entry] = [:]
        var nextReferenceID = 1
        /// Pools whose last reference went but whose closing has not finished, for the leak report.
        var closing: [ObjectIdentifier: ConnectionPool] = [:]
    }

    private let state = Locked(State())
    private let logger: Logger

    public init(logger: Logger = Logger(label: "memory-worker.pool-manager")) {
        self.logger = logger
    }

    /// The pool for `configuration`'s database, made on first use; counts `holder` as a reference.
    ///
    /// A pool already open for the database is returned as it is, with the settings it was made with: the first
    /// holder's settings win, and a holder asking for different ones is told so in the log.
    public func pool(
        for configuration: ConnectionConfiguration,
        settings: PoolSettings,
        holder: String
    ) -> Reference {
        let key = Self.key(for: configuration)
        let (reference, mismatch) = state.withLock { state -> (Reference, Bool) in
            let id = state.nextReferenceID
            state.nextReferenceID += 1
            var entry =
                state.entries[key] ?? Entry(pool: ConnectionPool(configuration: configuration, settings: settings))
            entry.holders[id] = holder
            state.entries[key] = entry
            return (Reference(id: id, holder: holder, key: key, pool: entry.pool), entry.pool.settings != settings)
        }
        if mismatch {
            logger.notice(
                "\(holder) asked for other pool settings; the pool keeps those it was opened with",
                metadata: ["pool": "\(reference.pool.target)"]
            )
        }
        return reference
    }

    /// Gives a reference back; the last one closes the pool (waiting up to `drain` for leases to come back).
    /// Releasing twice is harmless.
    public func release(_ reference: Reference, drain: Duration = .seconds(30)) async {
        let poolToClose = state.withLock { state -> ConnectionPool? in
            guard var entry = state.entries[reference.key], entry.pool === reference.pool,
                entry.holders.removeValue(forKey: reference.id) != nil
            else { return nil }
            guard entry.holders.isEmpty else {
                state.entries[reference.key] = entry
                return nil
            }
            state.entries[reference.key] = nil
            state.closing[ObjectIdentifier(entry.pool)] = entry.pool
            return entry.pool
        }
        guard let poolToClose else { return }
        await poolToClose.close(drain: drain)
        state.withLock { _ = $0.closing.removeValue(forKey: ObjectIdentifier(poolToClose)) }
    }

    /// Closes every pool, for shutdown. With `force`, leases still held are cut at once instead of drained.
    public func closeAll(force: Bool = false, drain: Duration = .seconds(30)) async {
        let pools = state.withLock { state -> [ConnectionPool] in
            let pools = state.entries.values.map(\.pool)
            for pool in pools { state.closing[ObjectIdentifier(pool)] = pool }
            state.entries.removeAll()
            return pools
        }
        await withTaskGroup(of: Void.self) { group in
            for pool in pools {
                group.addTask { await pool.close(drain: force ? .zero : drain) }
            }
        }
        state.withLock { state in
            for pool in pools { state.closing[ObjectIdentifier(pool)] = nil }
        }
    }

    /// Statistics of every open pool, keyed by masked URL.
    public var statistics: [String: PoolStatistics] {
        let entries = state.withLock { Array($0.entries.values) }
        var result: [String: PoolStatistics] = [:]
        for entry in entries {
            var statistics = entry.pool.statistics
            statistics.activeReferences = entry.holders.count
            result[entry.pool.target] = statistics
        }
        return result
    }

    /// What is still held: leases outstanding, references not released, pools not closed.
    public func leakReport() -> LeakReport {
        let (entries, closing) = state.withLock { (Array($0.entries.values), Array($0.closing.values)) }
        var report = LeakReport()
        for pool in entries.map(\.pool) + closing {
            report.outstandingLeases += pool.outstandingLeases.map { LeakReport.Lease(pool: pool.target, lease: $0) }
        }
        for entry in entries {
            report.activeReferences += entry.holders.values.sorted().map {
                LeakReport.Reference(pool: entry.pool.target, holder: $0)
            }
            report.openPools.append(entry.pool.target)
        }
        report.openPools += closing.map(\.target)
        report.openPools.sort()
        return report
    }

    static func key(for configuration: ConnectionConfiguration) -> DatabaseKey {
        let effective = configuration.effectiveTarget
        return DatabaseKey(
            host: effective.host,
            port: effective.port,
            database: effective.database,
            user: effective.user
        )
    }
}

/// What a batch left behind; empty means no leak on the client side.
public struct LeakReport: Sendable, Equatable {
    public struct Lease: Sendable, Equatable {
        public var pool: String
        public var lease: ConnectionPool.OutstandingLease
    }

    public struct Reference: Sendable, Equatable {
        public var pool: String
        public var holder: String
    }

    public var outstandingLeases: [Lease] = []
    public var activeReferences: [Reference] = []
    public var openPools: [String] = []

    public var isClean: Bool { outstandingLeases.isEmpty && activeReferences.isEmpty && openPools.isEmpty }
}
