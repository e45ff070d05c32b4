import ConnectionPool
import Foundation
import PoolConfiguration
import Postgres
import Testing

@Suite struct GlobalConnectionManagerTests {
    @Test func thereIsOneManagerPerProcess() {
        #expect(GlobalConnectionManager.shared === GlobalConnectionManager.shared)
    }

    @Test func fiveHoldersShareOnePoolAndItsLimit() async throws {
        let target = try TestTarget("mw-manager-share")
        let manager = GlobalConnectionManager()
        let settings = PoolSettings(minSize: 1, maxSize: 3)
        let references = (1...5).map {
            manager.pool(for: target.configuration, settings: settings, holder: "store \($0)")
        }
        #expect(Set(references.map { ObjectIdentifier($0.pool) }).count == 1)
        #expect(manager.statistics.count == 1)
        #expect(manager.statistics[references[0].pool.target]?.activeReferences == 5)
        let peak = try await target.peakServerConnections {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for reference in references {
                    for task in 0..<10 {
                        group.addTask {
                            _ = try await reference.pool.withConnection(holder: "\(reference.holder) task \(task)") {
                                try await $0.query("SELECT pg_sleep(0.01)")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(peak <= 3)
        for reference in references.dropLast() { await manager.release(reference) }
        #expect(manager.statistics[references[0].pool.target]?.activeReferences == 1)
        #expect(!references[0].pool.isClosed)
        await manager.release(references[4])
        await manager.release(references[4])
        #expect(references[0].pool.isClosed)
        #expect(manager.statistics.isEmpty)
        #expect(manager.leakReport().isClean)
        #expect(try await target.waitForServerConnections(0) == 0)
    }

    @Test func aClosedPoolIsNeverHandedOutAgain() async throws {
        let target = try TestTarget("mw-manager-reopen")
        let manager = GlobalConnectionManager()
        let first = manager.pool(for: target.configuration, settings: PoolSettings(minSize: 0), holder: "a")
        await manager.release(first)
        let second = manager.pool(for: target.configuration, settings: PoolSettings(minSize: 0), holder: "b")
        #expect(first.pool !== second.pool)
        #expect(!second.pool.isClosed)
        try await second.pool.withConnection { _ = try await $0.query("SELECT 1") }
        await manager.release(second)
    }

    @Test func aHundredHoldersComingAndGoingLeaveNothingBehind() async throws {
        let target = try TestTarget("mw-manager-churn")
        let manager = GlobalConnectionManager()
        let baseline = try await target.serverConnections()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for holder in 0..<100 {
                group.addTask {
                    let reference = manager.pool(
                        for: target.configuration,
                        settings: PoolSettings(minSize: 1, maxSize: 5),
                        holder: "store \(holder)"
                    )
                    try await reference.pool.withConnection { _ = try await $0.query("SELECT 1") }
                    await manager.release(reference)
                }
            }
            try await group.waitForAll()
        }
        #expect(manager.leakReport().isClean)
        #expect(manager.statistics.isEmpty)
        #expect(try await target.waitForServerConnections(baseline) == baseline)
    }

    @Test func differentDatabasesGetDifferentPools() async throws {
        let target = try TestTarget("mw-manager-keys")
        let manager = GlobalConnectionManager()
        var other = target.configuration
        other["dbname"] = "postgres"
        let a = manager.pool(for: target.configuration, settings: PoolSettings(minSize: 0), holder: "a")
        var renamed = target.configuration
        renamed["application_name"] = "another-name"
        let b = manager.pool(for: renamed, settings: PoolSettings(minSize: 0), holder: "b")
        let c = manager.pool(for: other, settings: PoolSettings(minSize: 0), holder: "c")
        #expect(a.pool === b.pool)
        #expect(a.pool !== c.pool)
        #expect(manager.statistics.count == 2)
        await manager.closeAll()
        #expect(manager.leakReport().isClean)
    }

    @Test func theLeakReportListsWhatIsStillHeld() async throws {
        let target = try TestTarget("mw-manager-report")
        let manager = GlobalConnectionManager()
        let reference = manager.pool(
            for: target.configuration, settings: PoolSettings(minSize: 0), holder: "forgetful job")
        let held = Task {
            try await reference.pool.withConnection(holder: "forgetful job task 1") { _ in
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        try await waitUntil("a connection is leased") { reference.pool.statistics.leased > 0 }
        let report = manager.leakReport()
        #expect(!report.isClean)
        #expect(report.outstandingLeases.map(\.lease.holder) == ["forgetful job task 1"])
        #expect(report.activeReferences.map(\.holder) == ["forgetful job"])
        #expect(report.openPools == [reference.pool.target])
        #expect(try await target.serverConnections() == 1)
        try await held.value
        await manager.closeAll(force: true)
        #expect(manager.leakReport().isClean)
        #expect(try await target.waitForServerConnections(0) == 0)
    }
}
