import ConnectionPool
import Foundation
import Logging
import Postgres

/// The lock one run of a batch holds so that no other run of the same batch (another cron tick, another host) does
/// its jobs at the same time.
///
/// It is a row with a lease in the store's schema, not an advisory lock: behind PgBouncer in transaction mode a
/// session's advisory lock stays with a server connection that PgBouncer hands to other clients after each
/// transaction, so it would be held by nobody in particular and released by nobody. A row needs nothing of the
/// session. It is taken with one `INSERT … ON CONFLICT DO UPDATE … WHERE` the lease expired, so of two runs only
/// one can take it; its holder renews it every third of the lease (``HeldBatchLock``), and a holder that died (`kill
/// -9`, a lost host) stops renewing it, so the next run takes it once the lease has expired. Every time is the server's
/// clock, so hosts whose clocks disagree still agree on when a lease ends.
public struct BatchLock: Sendable {
    /// Who holds (or wants) the lock, as a refused run names it.
    public struct Holder: Sendable, Equatable {
        public var host: String
        public var pid: Int32
        public var applicationName: String

        public init(host: String, pid: Int32, applicationName: String) {
            self.host = host
            self.pid = pid
            self.applicationName = applicationName
        }

        /// This process on this host, connecting as `applicationName`.
        public static func thisProcess(applicationName: String) -> Holder {
            var name = [CChar](repeating: 0, count: 256)
            let host =
                gethostname(&name, name.count - 1) == 0
                ? String(decoding: name.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self) : "unknown"
            return Holder(host: host, pid: getpid(), applicationName: applicationName)
        }
    }

    /// The batch: ``key(forJobs:)`` or a key the operator chose.
    public let key: String
    /// How long the lock stays taken without a heartbeat (`worker.lock.lease`).
    public let lease: Duration
    /// How long to wait for a lock another run holds before giving up; zero gives up at once.
    public let wait: Duration
    /// This run.
    public let holder: Holder
    /// The store's schema, which holds the lock table.
    public let schema: String

    /// The longest pause between two tries while waiting: a lock released by its holder is seen within this.
    static let pollInterval = Duration.seconds(1)

    public init(key: String, schema: String, lease: Duration, wait: Duration = .zero, holder: Holder) {
        self.key = key
        self.schema = schema
        self.lease = lease
        self.wait = wait
        self.holder = holder
    }

    /// The key of the batch made of the jobs named `names`: the same jobs in any order (the same files named in
    /// another order) are the same batch. A hash, so that a batch of many jobs still fits an index entry.
    public static func key(forJobs names: [String]) -> String {
        // 64-bit FNV-1a over the sorted names, each followed by a NUL, so that ["ab", "c"] and ["a", "bc"] differ.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for name in names.sorted() {
            for byte in name.utf8 + [0] {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        let hex = String(hash, radix: 16)
        return "jobs:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// `"schema".batch_locks`.
    var table: String { "\"" + schema.replacing("\"", with: "\"\"") + "\".batch_locks" }

    /// Takes the lock on `pool`, waiting up to ``wait`` while another run holds it (polling, at most every
    /// ``pollInterval``). The held lock renews itself until ``HeldBatchLock/release()``.
    ///
    /// - Returns: The held lock, or who holds it when the wait is over.
    /// - Throws: What the database said (the caller retries what may pass), or `CancellationError` when the task is
    ///   cancelled while waiting.
    public func take(
        on pool: ConnectionPool,
        logger: Logger = Logger(label: "memory-worker.batch-lock")
    ) async throws -> Result<HeldBatchLock, Refusal> {
        try await createTable(on: pool)
        let started = ContinuousClock.now
        var toldOfWait = false
        while true {
            let token = UUID().uuidString
            if try await tryToTake(token: token, on: pool) {
                return .success(HeldBatchLock(lock: self, token: token, pool: pool, logger: logger))
            }
            // Between the two statements the holder may have let go, or its lease run out: then try again at once.
            guard let state = try await currentHolder(on: pool), state.heartbeatAge < state.lease else { continue }
            let waited = ContinuousClock.now - started
            if waited >= wait { return .failure(Refusal(state: state, waited: wait > .zero ? waited : nil)) }
            if !toldOfWait {
                toldOfWait = true
                logger.notice(
                    "\(Refusal(state: state, waited: nil)); waiting up to \(Refusal.seconds(wait - waited)) for it")
            }
            try await Task.sleep(for: min(Self.pollInterval, wait - waited))
        }
    }

    /// Creates the lock table when it is missing, in one transaction under an advisory lock, so that two runs
    /// creating it together queue up rather than one failing on the catalog's unique index. The store's migrations
    /// created the schema already; an existing table is found without DDL, which needs no CREATE privilege.
    func createTable(on pool: ConnectionPool) async throws {
        try await pool.withConnection(holder: "batch lock \(key)") { connection in
            guard try await !connection.relationExists(table) else { return }
            try await connection.transaction { connection in
                try await connection.lockUntilTransactionEnds("memory-worker.batch-lock.create:" + schema)
                try await connection.execute(
                    script: """
                        CREATE TABLE IF NOT EXISTS \(table) (
                            key              text PRIMARY KEY,
                            token            text NOT NULL,
                            host             text NOT NULL,
                            pid              integer NOT NULL,
                            application_name text NOT NULL,
                            since            timestamptz NOT NULL,
                            heartbeat_at     timestamptz NOT NULL,
                            lease            interval NOT NULL
                        )
                        """)
            }
        }
    }

    /// One try: inserts the lock's row, or takes over a row whose holder's lease expired; one statement, so two runs
    /// trying at once cannot both succeed (the second waits for the first's row and then finds it not expired).
    private func tryToTake(token: String, on pool: ConnectionPool) async throws -> Bool {
        try await pool.withConnection(holder: "batch lock \(key)") { connection in
            try await connection.query(
                """
                INSERT INTO \(table) AS held (key, token, host, pid, application_name, since, heartbeat_at, lease)
                VALUES ($1::text, $2::text, $3::text, $4::int4, $5::text, now(), now(),
                        make_interval(secs => $6::float8))
                ON CONFLICT (key) DO UPDATE
                    SET token = excluded.token, host = excluded.host, pid = excluded.pid,
                        application_name = excluded.application_name, since = excluded.since,
                        heartbeat_at = excluded.heartbeat_at, lease = excluded.lease
                    WHERE held.heartbeat_at + held.lease < now()
                """,
                [key, token, holder.host, holder.pid, holder.applicationName, lease.seconds]
            ).rowsAffected == 1
        }
    }

    /// Who holds the lock now, as the server sees it; nil when nobody does.
    func currentHolder(on pool: ConnectionPool) async throws -> Refusal.State? {
        try await pool.withConnection(holder: "batch lock \(key)") { connection in
            let result = try await connection.query(
                """
                SELECT host, pid, application_name,
                       to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       extract(epoch FROM now() - heartbeat_at)::float8,
                       extract(epoch FROM lease)::float8
                FROM \(table) WHERE key = $1::text
                """,
                [key]
            )
            guard let row = result.rows.first else { return nil }
            return Refusal.State(
                holder: Holder(
                    host: try row.decode(0), pid: try row.decode(1), applicationName: try row.decode(2)),
                since: try row.decode(3),
                heartbeatAge: .seconds(try row.decode(4, as: Double.self)),
                lease: .seconds(try row.decode(5, as: Double.self))
            )
        }
    }

    /// The lock is held by another run: who, since when, and how fresh its heartbeat is against its lease.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public struct State: Sendable {
            public var holder: Holder
            /// When the holder took the lock, UTC (`2026-12-01T10:00:00Z`).
            public var since: String
            /// Time since the holder's last heartbeat, by the server's clock.
            public var heartbeatAge: Duration
            /// The holder's lease: the lock is free once its heartbeat is this old.
            public var lease: Duration
        }

        public var state: State
        /// How long this run waited (`--wait-lock`); nil when it did not.
        public var waited: Duration?

        /// `another run of this batch holds its lock (host h1, pid 123, application_name memory-worker, since
        /// 2026-12-01T10:00:00Z, heartbeat 2.0 s ago, lease 60 s: free in 58 s unless renewed)`.
        public var description: String {
            let holder = state.holder
            let age = Self.seconds(state.heartbeatAge)
            let left = Self.seconds(state.lease - state.heartbeatAge)
            let waiting = waited.map { " after waiting \(Self.seconds($0)) for it" } ?? ""
            // Another run's names, which may hold a password typed into the wrong key: masked like any shown value.
            return "another run of this batch holds its lock\(waiting) (host \(Redaction.maskValue(holder.host)), "
                + "pid \(holder.pid), application_name \(Redaction.maskValue(holder.applicationName)), since "
                + "\(state.since), heartbeat \(age) ago, "
                + "lease \(Self.seconds(state.lease)): free in \(left) unless renewed)"
        }

        /// Whole seconds from 10 s up, tenths below, where a short lease's numbers would all round to 0 or 1.
        static func seconds(_ duration: Duration) -> String {
            let value = max(0, duration.seconds)
            return value >= 10 ? "\(Int(value.rounded())) s" : String(format: "%.1f s", value)
        }
    }
}
