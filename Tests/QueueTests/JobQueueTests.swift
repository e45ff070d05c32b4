import ConnectionPool
import Foundation
import Jobs
import MemoryStore
import Postgres
import Queue
import Testing

/// The queue's claims, leases and endings against the private cluster, one store schema per test.
@Suite struct JobQueueTests {
    /// A queue in a schema of its own, on a pool of its own manager.
    struct Fixture {
        let schema = "queue_\(UInt32.random(in: 0...UInt32.max))"
        let manager = GlobalConnectionManager()
        let reference: GlobalConnectionManager.Reference
        let queue: JobQueue
        let admin: PostgresConnection

        init() async throws {
            let url = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
            let configuration = try ConnectionConfiguration(url)
            reference = manager.pool(for: configuration, settings: .init(), holder: "queue test")
            let store = MemoryStore(schema: schema)
            try await reference.pool.withConnection { _ = try await store.migrate(on: $0) }
            queue = try JobQueue(store: store, pool: reference.pool)
            try await queue.prepare()
            admin = try await PostgresConnection.connect(configuration)
        }

        func drain(_ host: String = "h") async throws -> Int64 {
            try await queue.registerDrain(host: host, pid: 1, applicationName: "test")
        }

        func state(_ job: String) async throws -> String {
            try await admin.query("SELECT state FROM \(schema).queue_jobs WHERE name = $1", [job]).rows[0]
                .decode(0, as: String.self)
        }

        func remove() async {
            try? await admin.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE")
            admin.close()
            await manager.release(reference)
        }
    }

    @Test func enqueuingTheSameBatchNameTwiceQueuesOnceAndOtherJobsUnderItAreRefused() async throws {
        let fixture = try await Fixture()
        let jobs = [TestJobs.inline("a"), TestJobs.inline("b", dependsOn: ["a"])]
        let first = try await fixture.queue.enqueue(jobs, name: "nightly", files: ["/x.yaml"], maxAttempts: 3, by: "h1")
        guard case .queued(let id, "nightly", 2) = first else {
            Issue.record("first enqueue: \(first)")
            return
        }
        // From another folder (the job file as typed differs), the same jobs: the same batch.
        var moved = jobs
        moved[0].file = "elsewhere/jobs.yaml"
        let again = try await fixture.queue.enqueue(
            moved, name: "nightly", files: ["/x.yaml"], maxAttempts: 3, by: "h2")
        guard case .alreadyQueued(id, "nightly", _, "h1") = again else {
            Issue.record("second enqueue: \(again)")
            return
        }
        let other = try await fixture.queue.enqueue(
            [TestJobs.inline("c")], name: "nightly", files: ["/y.yaml"], maxAttempts: 3, by: "h2")
        guard case .nameTaken(id, "nightly", _, "h1") = other else {
            Issue.record("other jobs under the same name: \(other)")
            return
        }
        let count = try await fixture.admin.query("SELECT count(*) FROM \(fixture.schema).queue_jobs").rows[0]
            .decode(0, as: Int.self)
        #expect(count == 2)
        await fixture.remove()
    }

    @Test func concurrentClaimersTakeEveryJobExactlyOnce() async throws {
        let fixture = try await Fixture()
        let jobs = (0..<40).map { TestJobs.inline("j\($0)") }
        _ = try await fixture.queue.enqueue(jobs, name: "many", files: [], maxAttempts: 3, by: "h")
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for index in 0..<8 {
                group.addTask {
                    let drain = try await fixture.drain("h\(index)")
                    var names: [String] = []
                    while let claim = try await fixture.queue.claim(drain: drain, visibilityTimeout: .seconds(60)) {
                        names.append(claim.name)
                    }
                    return names
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimed.count == 40)
        #expect(Set(claimed).count == 40)
        await fixture.remove()
    }

    @Test func aJobIsReadyOnlyWhenItsDependenciesAreDoneAndAFailureSkipsItsDependents() async throws {
        let fixture = try await Fixture()
        let jobs = [
            TestJobs.inline("a"), TestJobs.inline("b", dependsOn: ["a"]), TestJobs.inline("c", dependsOn: ["b"]),
            TestJobs.inline("d"),
            TestJobs.inline("e", dependsOn: ["d"]),
        ]
        _ = try await fixture.queue.enqueue(jobs, name: "deps", files: [], maxAttempts: 3, by: "h")
        let drain = try await fixture.drain()
        let a = try #require(try await fixture.queue.claim(drain: drain, visibilityTimeout: .seconds(60)))
        let d = try #require(try await fixture.queue.claim(drain: drain, visibilityTimeout: .seconds(60)))
        #expect([a.name, d.name] == ["a", "d"])
        #expect(try await fixture.queue.claim(drain: drain, visibilityTimeout: .seconds(60)) == nil)
        #expect(try await fixture.queue.finish(a, .done(report: "{}")))
        let b = try #require(try await fixture.queue.claim(drain: drain, visibilityTimeout: .seconds(60)))
        #expect(b.name == "b")
        #expect(try await fixture.queue.finish(b, .failed(error: "bad data", report: nil)))
        #expect(try await fixture.state("c") == "skipped")
        #expect(try await fixture.state("e") == "queued")
        #expect(try await fixture.queue.openJobs() == 2)
        await fixture.remove()
    }

    @Test func aClaimWhoseHeartbeatStoppedIsTakenOverAndItsOldOwnerCanNoLongerWrite() async throws {
        let fixture = try await Fixture()
        _ = try await fixture.queue.enqueue([TestJobs.inline("slow")], name: "b", files: [], maxAttempts: 3, by: "h")
        let lostDrain = try await fixture.drain("host-a")
        let survivor = try await fixture.drain("host-b")
        let first = try #require(try await fixture.queue.claim(drain: lostDrain, visibilityTimeout: .seconds(60)))
        // Fresh heartbeat: not claimable, however many drains ask.
        #expect(try await fixture.queue.claim(drain: survivor, visibilityTimeout: .seconds(60)) == nil)
        #expect(try await fixture.queue.heartbeat(drain: lostDrain) == [first.id])
        try await fixture.admin.query(
            "UPDATE \(fixture.schema).queue_jobs SET heartbeat_at = now() - interval '61 seconds'")
        let second = try #require(try await fixture.queue.claim(drain: survivor, visibilityTimeout: .seconds(60)))
        #expect(second.attempt == 2)
        #expect(second.takenOver?.contains("host-a") == true)
        #expect(try await fixture.queue.heartbeat(drain: lostDrain).isEmpty)
        #expect(try await !fixture.queue.finish(first, .done(report: "{}")))
        #expect(try await fixture.state("slow") == "running")
        #expect(try await fixture.queue.finish(second, .done(report: "{}")))
        let outcomes = try await fixture.admin.query(
            "SELECT outcome FROM \(fixture.schema).queue_attempts ORDER BY id"
        ).rows.map { try $0.decode(0, as: String.self) }
        #expect(outcomes == ["lost", "done"])
        await fixture.remove()
    }

    @Test func aRetryWaitsForItsDelayAndAReleaseDoesNotCountAsAnAttempt() async throws {
        let fixture = try await Fixture()
        _ = try await fixture.queue.enqueue([TestJobs.inline("flaky")], name: "b", files: [], maxAttempts: 2, by: "h")
        let drain = try await fixture.drain()
        let first = try #require(try await fixture.queue.claim(drain: drain, visibilityTimeout: .seconds(60)))
        #expect(try await fixture.queue.finish(first, .released(report: nil)))
        let again = try #require(try await fixture.queue.claim(drain: drain, visibilityTimeout: .seconds(60)))
        #expect(again.attempt == 1)
        #expect(
            try await fixture.queue.finish(again, .retry(error: "server gone", report: nil, after: .seconds(3600))))
        #expect(try await fixture.queue.claim(drain: drain, visibilityTimeout: .seconds(60)) == nil)
        #expect(try await fixture.queue.openJobs() == 1)
        try await fixture.admin.query("UPDATE \(fixture.schema).queue_jobs SET run_after = now()")
        let last = try #require(try await fixture.queue.claim(drain: drain, visibilityTimeout: .seconds(60)))
        #expect(last.attempt == 2 && last.maxAttempts == 2)
        await fixture.remove()
    }
}

extension Claim: Equatable {
    public static func == (left: Claim, right: Claim) -> Bool { left.id == right.id }
}
