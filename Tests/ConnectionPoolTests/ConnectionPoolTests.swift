import ConnectionPool
import Foundation
import PoolConfiguration
import Postgres
import Testing

@Suite struct ConnectionPoolTests {
    @Test func sixtyFourTasksOverMaxSizeFourNeverSeeMoreThanFour() async throws {
        let target = try TestTarget("mw-pool-max")
        let pool = ConnectionPool(configuration: target.configuration, settings: PoolSettings(minSize: 0, maxSize: 4))
        let peak = try await target.peakServerConnections {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<64 {
                    group.addTask {
                        _ = try await pool.withConnection(holder: "task \(task)") { connection in
                            try await connection.query("SELECT pg_sleep(0.02)")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let statistics = pool.statistics
        #expect(peak <= 4)
        #expect(statistics.peakLeased == 4)
        #expect(statistics.connectionsNum == 4)
        #expect(statistics.requestsNum == 64)
        #expect(statistics.leased == 0 && statistics.requestsWaiting == 0)
        await pool.close()
        #expect(try await target.waitForServerConnections(0) == 0)
    }

    @Test func minSizeIsOpenedAtStart() async throws {
        let target = try TestTarget("mw-pool-min")
        let pool = ConnectionPool(configuration: target.configuration, settings: PoolSettings(minSize: 3, maxSize: 5))
        for _ in 0..<500 where pool.statistics.poolAvailable < 3 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(pool.statistics.poolAvailable == 3)
        #expect(try await target.waitForServerConnections(3) == 3)
        await pool.close()
        #expect(try await target.waitForServerConnections(0) == 0)
        #expect(pool.statistics.poolClosed)
    }

    @Test func timeoutNamesThePoolTheLimitTheWaitersAndTheHolders() async throws {
        let target = try TestTarget("mw-pool-timeout")
        let pool = ConnectionPool(
            configuration: target.configuration,
            settings: PoolSettings(minSize: 1, maxSize: 1, acquireTimeout: .milliseconds(200))
        )
        // Opened before the holder asks, so the holder's own request cannot time out on a slow, loaded machine.
        try await waitUntil("the connection is open") { pool.statistics.poolAvailable == 1 }
        let holder = Task {
            try await pool.withConnection(holder: "slow job task 1") { connection in
                try await connection.query("SELECT pg_sleep(1.5)")
            }
        }
        try await waitUntil("a connection is leased") { pool.statistics.leased > 0 }
        await #expect {
            try await pool.withConnection(holder: "impatient") { _ in }
        } throws: { error in
            guard let error = error as? PoolError, error.kind == .timedOut else { return false }
            return error.message.contains(pool.target) && error.message.contains("max_size 1")
                && error.message.contains("0 more request(s) waiting")
                && error.message.contains("slow job task 1 at ConnectionPoolTests/ConnectionPoolTests.swift:")
        }
        #expect(pool.statistics.requestsTimeouts == 1)
        _ = try await holder.value
        await pool.close()
    }

    @Test func aKilledBackendIsReplacedWithoutAnErrorToTheNextCaller() async throws {
        let target = try TestTarget("mw-pool-killed")
        let pool = ConnectionPool(configuration: target.configuration, settings: PoolSettings(minSize: 1, maxSize: 1))
        let firstPID = try await pool.withConnection { $0.backendPID }
        let admin = try await PostgresConnection.connect(target.configuration)
        try await admin.query("SELECT pg_terminate_backend($1)", [firstPID])
        admin.close()
        // Wait until the server has really ended it, so the pool's next lease meets a dead connection.
        _ = try await target.waitForServerConnections(0)
        let secondPID = try await pool.withConnection { connection in
            try await connection.query("SELECT pg_backend_pid()").rows[0].decode(0, as: Int32.self)
        }
        #expect(secondPID != firstPID)
        #expect(pool.statistics.connectionsLost == 1)
        await pool.close()
    }

    @Test func aTransactionLeftOpenIsRolledBackOnReturn() async throws {
        let target = try TestTarget("mw-pool-tx")
        let pool = ConnectionPool(configuration: target.configuration, settings: PoolSettings(minSize: 1, maxSize: 1))
        let table = "mw_pool_tx_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.withConnection { try await $0.execute(script: "CREATE TABLE \(table) (n int)") }
        try await pool.withConnection { connection in
            try await connection.execute(script: "BEGIN")
            try await connection.query("INSERT INTO \(table) VALUES ($1)", [1])
        }
        let (status, count) = try await pool.withConnection { connection in
            (
                connection.transactionStatus,
                try await connection.query("SELECT count(*) FROM \(table)").rows[0].decode(0, as: Int.self)
            )
        }
        #expect(status == .idle)
        #expect(count == 0)
        #expect(pool.statistics.returnsBad == 1)
        #expect(pool.statistics.connectionsNum == 1)
        try await pool.withConnection { try await $0.execute(script: "DROP TABLE \(table)") }
        await pool.close()
    }

    @Test func aTaskCancelledWhileWaitingLeavesTheQueue() async throws {
        let target = try TestTarget("mw-pool-cancel")
        let pool = ConnectionPool(configuration: target.configuration, settings: PoolSettings(minSize: 0, maxSize: 1))
        let holder = Task { try await pool.withConnection { try await $0.query("SELECT pg_sleep(0.5)") } }
        try await waitUntil("a connection is leased") { pool.statistics.leased > 0 }
        let waiter = Task { try await pool.withConnection { _ in } }
        try await waitUntil("a connection is waited for") { pool.statistics.requestsWaiting > 0 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(pool.statistics.requestsWaiting == 0)
        _ = try await holder.value
        await pool.close()
    }

    @Test func connectionsAreRecycledAfterTheirLifetime() async throws {
        let target = try TestTarget("mw-pool-recycle")
        let pool = ConnectionPool(
            configuration: target.configuration,
            settings: PoolSettings(minSize: 1, maxSize: 1, maxLifetime: .milliseconds(300))
        )
        let first = try await pool.withConnection { $0.backendPID }
        try await Task.sleep(for: .milliseconds(400))
        let second = try await pool.withConnection { $0.backendPID }
        #expect(first != second)
        #expect(try await target.waitForServerConnections(1) == 1)
        await pool.close()
    }

    @Test func idleConnectionsShrinkToMinSize() async throws {
        let target = try TestTarget("mw-pool-idle")
        let pool = ConnectionPool(
            configuration: target.configuration,
            settings: PoolSettings(minSize: 1, maxSize: 4, idleTimeout: .milliseconds(200))
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { _ = try await pool.withConnection { try await $0.query("SELECT pg_sleep(0.1)") } }
            }
            try await group.waitForAll()
        }
        #expect(pool.statistics.peakLeased == 4 && pool.statistics.connectionsNum == 4)
        #expect(try await target.waitForServerConnections(1) == 1)
        #expect(pool.statistics.poolSize == 1)
        await pool.close()
    }

    @Test func aLeakedLeaseIsReportedWithItsHolderAndCallSite() async throws {
        let target = try TestTarget("mw-pool-leak")
        let logs = LogCollector()
        let pool = ConnectionPool(
            configuration: target.configuration,
            settings: PoolSettings(minSize: 0, maxSize: 2, leakThreshold: .milliseconds(100)),
            logger: logs.logger
        )
        let leaker = Task {
            try await pool.withConnection(holder: "leaky job task 7") { _ in
                try await Task.sleep(for: .seconds(10))
            }
        }
        func warned() -> Bool {
            logs.messages.withLock { $0 }.contains {
                $0.contains("possible connection leak") && $0.contains("leaky job task 7")
            }
        }
        for _ in 0..<500 where !warned() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(warned())
        let outstanding = pool.outstandingLeases
        #expect(outstanding.count == 1)
        #expect(outstanding.first?.holder == "leaky job task 7")
        #expect(outstanding.first?.callSite.hasPrefix("ConnectionPoolTests/ConnectionPoolTests.swift:") == true)
        #expect(outstanding.first.map { $0.heldFor >= .milliseconds(100) } == true)
        leaker.cancel()
        _ = await leaker.result
        #expect(pool.outstandingLeases.isEmpty)
        await pool.close()
    }

    @Test func closeRefusesNewLeasesAndCutsLeasesPastTheDrainTime() async throws {
        let target = try TestTarget("mw-pool-close")
        let pool = ConnectionPool(configuration: target.configuration, settings: PoolSettings(minSize: 0, maxSize: 2))
        let stuck = Task { try await pool.withConnection { try await $0.query("SELECT pg_sleep(30)") } }
        try await waitUntil("a connection is leased") { pool.statistics.leased > 0 }
        await pool.close(drain: .milliseconds(100))
        await #expect(throws: (any Error).self) { try await stuck.value }
        await #expect {
            try await pool.withConnection { _ in }
        } throws: { ($0 as? PoolError)?.kind == .closed }
        #expect(pool.statistics.poolSize == 0)
        #expect(try await target.waitForServerConnections(0) == 0)
    }

    @Test func anUnreachableDatabaseFailsLeasesWithTheConnectError() async throws {
        let configuration = ConnectionConfiguration(parameters: [
            ("host", "127.0.0.1"), ("port", "1"), ("password", "Zx9-Secret!"),
        ])
        let pool = ConnectionPool(configuration: configuration, settings: PoolSettings(minSize: 0, maxSize: 2))
        await #expect {
            try await pool.withConnection { _ in }
        } throws: { error in
            guard let error = error as? PoolError else { return false }
            return error.kind == .connectFailed && error.message.contains("Connection refused")
                && !error.message.contains("Zx9-Secret!") && error.message.contains(":***@127.0.0.1:1")
        }
        #expect(pool.statistics.connectionsErrors >= 1)
        await pool.close()
    }
}
