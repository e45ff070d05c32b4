import ConnectionPool
import Foundation
import PoolConfiguration
import Postgres
import Testing

@testable import Worker

/// Every check of `worker doctor` fails when what it checks is broken: each test breaks one thing for real (a manager
/// that is not one object, backends beyond max_size, a pool opened with other settings, a holder that never lets
/// go) against the private test cluster. `DatabaseCommandTests` shows that they all pass when nothing is broken.
@Suite struct DoctorCheckTests {
    /// A doctor with a small pool under an application name of the test's own.
    static func doctor(
        sharedManager: @escaping @Sendable () -> GlobalConnectionManager = { .shared }
    ) throws -> Doctor {
        Doctor(
            configuration: try ConnectionConfiguration(try DatabaseCommandTests.databaseURL()),
            // Small, so that few extra backends exceed it; a generous timeout for a loaded test machine.
            pool: PoolSettings(minSize: 1, maxSize: 3, acquireTimeout: .seconds(120)),
            applicationName: "mw-doctor-test-\(UInt32.random(in: 0...UInt32.max))",
            sharedManager: sharedManager,
            // What the broken cases leave on the server never goes, so they need not wait the default.
            settle: .milliseconds(300)
        )
    }

    /// A holder that takes a reference to the doctor's database on `manager` and never gives it back.
    static func strayHolder(on manager: GlobalConnectionManager, _ doctor: Doctor, settings: PoolSettings? = nil) {
        _ = manager.pool(for: doctor.configuration, settings: settings ?? doctor.pool, holder: "stray holder")
    }

    @Test func singletonFailsWhenTheSharedManagerIsNotOneObject() async throws {
        let doctor = try Self.doctor(sharedManager: { GlobalConnectionManager() })
        let outcome = await doctor.run(.singleton)
        #expect(!outcome.passed)
        #expect(outcome.detail.contains("16 different objects"), "\(outcome.detail)")
        #expect(await (try Self.doctor()).run(.singleton).passed)
    }

    @Test func poolSharingFailsWhenTheServerSeesMoreThanMaxSize() async throws {
        let doctor = try Self.doctor()
        // Backends under the doctor's name beyond max_size: what a pool that opened too many would leave.
        var extra: [PostgresConnection] = []
        defer { for connection in extra { connection.close() } }
        for _ in 0...doctor.pool.maxSize { extra.append(try await PostgresConnection.connect(doctor.configuration)) }
        let outcome = await doctor.run(.poolSharing)
        #expect(!outcome.passed)
        #expect(outcome.detail.contains("max_size \(doctor.pool.maxSize)"), "\(outcome.detail)")
    }

    @Test func configurationAppliedFailsWhenThePoolHasOtherSettings() async throws {
        let doctor = try Self.doctor()
        let manager = GlobalConnectionManager()
        // The first holder's settings win: the doctor's reference gets a pool made with max_size 5.
        Self.strayHolder(on: manager, doctor, settings: PoolSettings(minSize: 1, maxSize: 5))
        let outcome = await doctor.run(.configurationApplied, on: manager)
        #expect(!outcome.passed)
        #expect(outcome.detail.contains("max_size 5"), "\(outcome.detail)")
    }

    @Test func leakPreventionFailsWhenAHolderNeverLetsGo() async throws {
        let doctor = try Self.doctor()
        let manager = GlobalConnectionManager()
        Self.strayHolder(on: manager, doctor)
        let outcome = await doctor.run(.leakPrevention, on: manager)
        #expect(!outcome.passed)
        #expect(outcome.detail.contains("left 1 pool(s), 1 reference(s)"), "\(outcome.detail)")
    }

    @Test func stableOverJobsFailsWhenConnectionsOutliveTheJobs() async throws {
        let doctor = try Self.doctor()
        let manager = GlobalConnectionManager()
        // The pool never closes between jobs, so its connections stay on the server after each one.
        Self.strayHolder(on: manager, doctor)
        let outcome = await doctor.run(.stableOverJobs, on: manager)
        #expect(!outcome.passed)
        #expect(!outcome.detail.contains("after each job: 0 0 0 0 0 0 0 0 0 0;"), "\(outcome.detail)")
    }
}
