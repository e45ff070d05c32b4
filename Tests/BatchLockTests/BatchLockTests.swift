import BatchLock
import ConnectionPool
import Foundation
import PoolConfiguration
import Postgres
import Testing

/// The batch lock against the private cluster: one taker wins, the others are told who holds it; a lease that ran
/// out is taken over; the heartbeat keeps a lease alive and notices a lock taken away; release frees it for the next.
@Suite struct BatchLockTests {
    @Test func aSecondRunIsRefusedNamingTheHolderUntilTheFirstReleases() async throws {
        try await withScratch { scratch in
            let first = scratch.lock("nightly", holder: .init(host: "h1", pid: 123, applicationName: "first-app"))
            let second = scratch.lock("nightly", holder: .init(host: "h2", pid: 456, applicationName: "second-app"))
            let held = try await first.take(on: scratch.pool).get()
            guard case .failure(let refusal) = try await second.take(on: scratch.pool) else {
                Issue.record("the second run took a lock the first holds")
                return
            }
            #expect(refusal.state.holder == first.holder)
            #expect(refusal.state.since.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil, "\(refusal)")
            #expect(refusal.state.lease == .seconds(60) && refusal.state.heartbeatAge < .seconds(60))
            #expect(refusal.waited == nil)
            let line = "\(refusal)"
            for part in [
                "host h1", "pid 123", "application_name first-app", "since \(refusal.state.since)", "lease 60 s",
            ] {
                #expect(line.contains(part), "\(line)")
            }
            // Another batch is another lock.
            let other = try await scratch.lock("weekly").take(on: scratch.pool).get()
            await other.release()
            await held.release()
            let after = try await second.take(on: scratch.pool).get()
            await after.release()
        }
    }

    /// Many runs trying at once: the lock is one statement, so exactly one of them gets it.
    @Test func ofManyRunsTakingAtOnceExactlyOneGetsIt() async throws {
        try await withScratch { scratch in
            let lock = scratch.lock("race")
            let held = try await withThrowingTaskGroup(of: HeldBatchLock?.self) { group in
                for _ in 0..<8 {
                    group.addTask { try? await lock.take(on: scratch.pool).get() }
                }
                var held: [HeldBatchLock] = []
                for try await taken in group { if let taken { held.append(taken) } }
                return held
            }
            #expect(held.count == 1)
            for lock in held { await lock.release() }
        }
    }

    /// A holder killed outright stops its heartbeat: its lock is refused while the lease runs, and taken over once it
    /// has run out, and the refusal shows the heartbeat's age against the lease.
    @Test func aDeadHoldersLockIsTakenOnceItsLeaseRanOut() async throws {
        try await withScratch { scratch in
            let lock = scratch.lock("cron")
            try await lock.take(on: scratch.pool).get().release()  // creates the table
            try await scratch.admin.query(
                """
                INSERT INTO \(scratch.schema).batch_locks
                VALUES ($1, 'dead', 'h9', 999, 'app', now() - interval '1 h', now() - interval '40 s', interval '100 s')
                """, [lock.key])
            guard case .failure(let refusal) = try await lock.take(on: scratch.pool) else {
                Issue.record("a lock whose lease has not run out was taken")
                return
            }
            let ages = try #require(
                "\(refusal)".firstMatch(of: /heartbeat (\d+) s ago, lease 100 s: free in (\d+) s unless renewed/),
                "\(refusal)")
            #expect(Int(ages.1).map { $0 >= 40 } == true && Int(ages.2).map { $0 <= 60 } == true, "\(refusal)")
            try await scratch.admin.query(
                "UPDATE \(scratch.schema).batch_locks SET heartbeat_at = now() - interval '101 s'")
            let held = try await lock.take(on: scratch.pool).get()
            let holder = try await scratch.admin.query("SELECT pid, token FROM \(scratch.schema).batch_locks")
            #expect(try holder.rows.first?.decode(0, as: Int.self) == Int(getpid()))
            #expect(try holder.rows.first?.decode(1, as: String.self) != "dead")
            await held.release()
        }
    }

    /// A run that waits gets the lock as soon as the holder releases it; one that waits too little is refused and
    /// says it waited.
    @Test func aWaitingRunTakesTheLockOnceReleased() async throws {
        try await withScratch { scratch in
            let held = try await scratch.lock("wait").take(on: scratch.pool).get()
            let short = try await scratch.lock("wait", wait: .milliseconds(300)).take(on: scratch.pool)
            guard case .failure(let refusal) = short else {
                Issue.record("a run that waited 0.3 s took a lock still held")
                return
            }
            #expect(refusal.waited != nil && "\(refusal)".contains("after waiting"))
            let waiter = Task { try await scratch.lock("wait", wait: .seconds(60)).take(on: scratch.pool) }
            try await Task.sleep(for: .milliseconds(200))
            await held.release()
            let taken = try await waiter.value.get()
            await taken.release()
        }
    }

    /// The heartbeat renews the lease while the run goes on; a renewal that finds another run's token marks the lock
    /// lost, and the release then leaves the other run's row alone.
    @Test func theHeartbeatRenewsTheLeaseAndNoticesALostLock() async throws {
        try await withScratch { scratch in
            let held = try await scratch.lock("beat", lease: .milliseconds(600)).take(on: scratch.pool).get()
            var renewed = false
            for _ in 0..<3000 where !renewed {
                renewed =
                    try await scratch.admin.query(
                        "SELECT heartbeat_at > since FROM \(scratch.schema).batch_locks"
                    ).rows[0].decode(0, as: Bool.self)
                if !renewed { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(renewed, "no heartbeat within 30 s")
            #expect(!held.isLost)
            try await scratch.admin.query("UPDATE \(scratch.schema).batch_locks SET token = 'another run'")
            for _ in 0..<3000 where !held.isLost { try await Task.sleep(for: .milliseconds(10)) }
            #expect(held.isLost, "the heartbeat did not notice within 30 s")
            await held.release()
            let left = try await scratch.admin.query("SELECT token FROM \(scratch.schema).batch_locks")
            #expect(try left.rows.first?.decode(0, as: String.self) == "another run")
        }
    }

    @Test func theDerivedKeyIgnoresTheJobsOrder() {
        #expect(BatchLock.key(forJobs: ["load", "ask"]) == BatchLock.key(forJobs: ["ask", "load"]))
        #expect(BatchLock.key(forJobs: ["load", "ask"]) != BatchLock.key(forJobs: ["load"]))
        #expect(BatchLock.key(forJobs: ["ab", "c"]) != BatchLock.key(forJobs: ["a", "bc"]))
        #expect(BatchLock.key(forJobs: ["load"]).wholeMatch(of: /jobs:[0-9a-f]{16}/) != nil)
    }

    // MARK: Scratch

    /// A schema of the test's own (the store's, where the lock table lives), a pool and an admin connection.
    struct Scratch {
        let schema: String
        let pool: ConnectionPool
        let admin: PostgresConnection

        func lock(
            _ key: String, lease: Duration = .seconds(60), wait: Duration = .zero,
            holder: BatchLock.Holder = .thisProcess(applicationName: "batch-lock-tests")
        ) -> BatchLock {
            BatchLock(key: key, schema: schema, lease: lease, wait: wait, holder: holder)
        }
    }

    private func withScratch(_ body: (Scratch) async throws -> Void) async throws {
        let url = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
        let configuration = try ConnectionConfiguration(url)
        let schema = "batch_lock_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await PostgresConnection.connect(configuration)
        defer { admin.close() }
        try await admin.execute(script: "CREATE SCHEMA \(schema)")
        let pool = ConnectionPool(configuration: configuration, settings: PoolSettings(minSize: 0, maxSize: 10))
        do {
            try await body(Scratch(schema: schema, pool: pool, admin: admin))
        } catch {
            await pool.close()
            try await admin.execute(script: "DROP SCHEMA \(schema) CASCADE")
            throw error
        }
        await pool.close()
        try await admin.execute(script: "DROP SCHEMA \(schema) CASCADE")
    }
}
