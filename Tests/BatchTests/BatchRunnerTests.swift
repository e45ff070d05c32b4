import Batch
import ConnectionPool
import Foundation
import Jobs
import Postgres
import Settings
import Support
import Testing

@Suite struct BatchRunnerTests {
    static let aliceAndBob = """
        {"user": "alice", "session": "s1", "role": "user", "content": "My sourdough starter doubled overnight."}
        {"user": "alice", "session": "s1", "role": "assistant", "content": "Rye flour speeds a starter up."}
        {"user": "alice", "session": "s2", "role": "user", "content": "The ridge trail to the summit is 14 km."}
        {"user": "bob", "session": "s1", "role": "user", "content": "My sourdough starter smells of acetone."}
        {"user": "bob", "session": "s2", "role": "user", "content": "Marathon training: long run of 28 km."}

        """

    @Test func ingestThenQueryGivesRankedPerUserHitsAndACleanLeakReport() async throws {
        let fixture = try BatchFixture("ranked")
        let settings = try fixture.settings()
        defer { fixture.remove(settings) }
        try fixture.write("data/messages.jsonl", Self.aliceAndBob)
        let file = try fixture.write(
            "batch.yaml",
            """
            jobs:
              - name: ingest
                kind: ingest
                source: data/messages.jsonl
                batch_size: 2
              - name: query-alice
                kind: query
                depends_on: ingest
                user: alice
                queries: [sourdough, marathon, "summit trail"]
                output: alice.jsonl
              - name: query-bob
                kind: query
                depends_on: [ingest]
                user: bob
                queries: [sourdough]
                output: bob.jsonl
            """
        )
        let report = await fixture.runner(settings).run(try JobLoader.load(files: [file]))
        #expect(report.batch.status == .ok)
        #expect(report.exitStatus(failOnLeak: true).rawValue == 0)
        #expect(report.jobs.map(\.status) == [.ok, .ok, .ok])
        #expect(report.jobs[0].items == 5 && report.jobs[0].inserted == 5 && report.jobs[0].duplicates == 0)
        #expect(report.jobs[0].poolUsage?.leases == 3)
        #expect(report.jobs[1].items == 3 && report.jobs[1].hits == 2)
        #expect(report.leaks.outstandingLeases.isEmpty && report.leaks.openPools.isEmpty)

        // The pool's request counter is the jobs' leases plus the migration's one.
        let statistics = try #require(report.pools.values.first)
        // The server was asked about every backend the pool opened, and none was left.
        #expect(statistics.connectionsNum > 0)
        #expect(report.leaks.serverBackendsChecked == statistics.connectionsNum)
        #expect(report.leaks.serverBackendsLeft == [] && report.leaks.serverConnectionsLeft == 0)
        #expect(report.leaks.ok && report.leaks.serverCheckError == nil)
        #expect(report.table().contains("server: checked \(statistics.connectionsNum) backends, 0 left"))
        let leases = report.jobs.compactMap(\.poolUsage?.leases).reduce(0, +)
        #expect(statistics.requestsNum == leases + 1)
        #expect(statistics.poolClosed && statistics.leased == 0)

        let alice = try String(contentsOf: fixture.folder.appendingPathComponent("alice.jsonl"), encoding: .utf8)
        let records = alice.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(records.count == 2)
        #expect(records.allSatisfy { $0["user"] as? String == "alice" && $0["job"] as? String == "query-alice" })
        #expect(records.contains { ($0["content"] as? String)?.contains("sourdough starter doubled") == true })
        #expect(!alice.contains("acetone"))
        let keys = Set(records.first?.keys.map { $0 } ?? [])
        #expect(
            keys == [
                "job", "user", "query", "rank", "score", "session", "message_ids", "source_ids", "positions", "content",
                "created_at",
            ])

        // Running the same ingest again adds nothing and reports the duplicates.
        let again = await fixture.runner(settings).run(try JobLoader.load(files: [file]))
        #expect(again.jobs[0].inserted == 0 && again.jobs[0].duplicates == 5)
        #expect(again.batch.status == .ok, "a second run replaces the output files")
    }

    @Test func aFailedJobSkipsItsDependentsButNotOthers() async throws {
        let fixture = try BatchFixture("skips")
        let settings = try fixture.settings()
        defer { fixture.remove(settings) }
        try fixture.write("data/bad.jsonl", Self.aliceAndBob + "{\"user\": \"carol\"}\n")
        try fixture.write("data/good.jsonl", Self.aliceAndBob)
        let file = try fixture.write(
            "batch.yaml",
            """
            jobs:
              - {name: strict, kind: ingest, source: data/bad.jsonl}
              - {name: after-strict, kind: query, user: alice, queries: [x], depends_on: strict}
              - {name: lenient, kind: ingest, source: data/bad.jsonl, on_bad_record: skip}
              - {name: after-lenient, kind: query, user: alice, queries: [sourdough], depends_on: lenient}
            """
        )
        let report = await fixture.runner(settings).run(try JobLoader.load(files: [file]))
        #expect(report.jobs.map(\.status) == [.failed, .skipped, .ok, .ok])
        #expect(report.jobs[0].error?.contains("bad.jsonl:6") == true)
        #expect(report.jobs[1].error?.contains("strict") == true)
        #expect(report.jobs[2].badRecords == 1 && report.jobs[2].badRecordList.first?.contains("bad.jsonl:6") == true)
        #expect(report.batch.jobsFailed == 1 && report.batch.jobsSkipped == 1)
        #expect(report.exitStatus(failOnLeak: true).rawValue == 1)
        #expect(report.leaks.ok)
    }

    @Test func twentyJobsAtParallelEightNeverExceedMaxSize() async throws {
        let fixture = try BatchFixture("twenty")
        let settings = try fixture.settings(poolSize: 1, maxOverflow: 2)
        defer { fixture.remove(settings) }
        try fixture.write("data/messages.jsonl", Self.aliceAndBob)
        var yaml = "jobs:\n  - {name: ingest, kind: ingest, source: data/messages.jsonl}\n"
        for job in 0..<19 {
            yaml +=
                "  - {name: q\(job), kind: query, user: alice, queries: [sourdough, trail, rye], depends_on: ingest,"
            yaml += " concurrency: 4}\n"
        }
        let jobs = try JobLoader.load(files: [try fixture.write("batch.yaml", yaml)])
        let runner = fixture.runner(settings, parallelJobs: 8)
        let finished = Locked(false)
        let (report, peak) = try await withThrowingTaskGroup(of: (BatchReport?, Int).self) { group in
            group.addTask {
                defer { finished.withLock { $0 = true } }
                return (await runner.run(jobs), 0)
            }
            group.addTask {
                var peak = 0
                while !finished.withLock({ $0 }) {
                    let count = try await ServerConnectionCount.count(
                        applicationName: fixture.applicationName,
                        configuration: settings.connection
                    )
                    peak = max(peak, count)
                    try await Task.sleep(for: .milliseconds(5))
                }
                return (nil, peak)
            }
            var report: BatchReport?
            var peak = 0
            for try await (result, seen) in group {
                report = report ?? result
                peak = max(peak, seen)
            }
            return (report, peak)
        }
        #expect(report?.batch.jobsOK == 20)
        #expect(peak <= 3)
        #expect(report?.pools.values.first.map { $0.peakLeased <= 3 } == true)
        #expect(report?.leaks.ok == true)
    }

    @Test func anUnreachableDatabaseIsReportedAsUnreachable() async throws {
        let fixture = try BatchFixture("unreachable")
        defer { try? FileManager.default.removeItem(at: fixture.folder) }
        let settings = try SettingsLoader.load(
            configPath: try fixture.write("config.yaml", "postgres:\n  pool_size: 2\n"),
            environment: ["DATABASE_URL": "postgresql://u:Zx9-Secret!@127.0.0.1:1/x"]
        )
        let file = try fixture.write("jobs.yaml", "name: ask\nkind: query\nuser: u\nqueries: [x]\n")
        let manager = GlobalConnectionManager()
        var options = BatchRunner.Options()
        options.retry = RetryPolicy(attempts: 2, initialDelay: .milliseconds(10), maximumDelay: .milliseconds(10))
        let report = await BatchRunner(settings: settings, options: options, manager: manager)
            .run(try JobLoader.load(files: [file]))
        #expect(report.batch.status == .unreachable)
        #expect(report.batch.failure?.kind == .transient)
        let reason = report.batch.failure?.reason ?? ""
        #expect(reason.contains("Connection refused") && !reason.contains("Zx9-Secret!"), "\(reason)")
        #expect(report.jobs.map(\.status) == [.notStarted] && report.batch.jobsSkipped == 1)
        #expect(report.exitStatus(failOnLeak: true).rawValue == 75)
        // The pool never reached the server, so it left nothing there: the check has nothing to ask about.
        #expect(report.leaks.ok && report.leaks.serverBackendsChecked == 0)
        #expect(manager.leakReport().isClean)
    }

    /// A record the database cannot store is refused once, where it is read, with its file and line: the job
    /// that fails on it names the line, the one that skips it lists it, and the store never sees it.
    @Test func aRecordWithNULIsRefusedWhereItIsReadWithItsFileAndLine() async throws {
        let fixture = try BatchFixture("nul")
        let settings = try fixture.settings()
        defer { fixture.remove(settings) }
        let nul = #"{"user": "carol", "session": "s1", "role": "user", "content": "a\u0000b"}"# + "\n"
        try fixture.write("data/strict.jsonl", Self.aliceAndBob + nul)
        try fixture.write("data/lenient.jsonl", Self.aliceAndBob + nul)
        let file = try fixture.write(
            "batch.yaml",
            """
            jobs:
              - {name: strict, kind: ingest, source: data/strict.jsonl}
              - {name: lenient, kind: ingest, source: data/lenient.jsonl, on_bad_record: skip}
            """
        )
        let report = await fixture.runner(settings).run(try JobLoader.load(files: [file]))
        let reason = "field 'content' contains a NUL character (\\u0000), which PostgreSQL text cannot store"
        #expect(report.jobs[0].status == .failed)
        #expect(report.jobs[0].error?.contains("strict.jsonl:6: \(reason)") == true, "\(report.jobs[0].error ?? "")")
        #expect(report.jobs[1].status == .ok, "\(report.jobs[1].error ?? "")")
        #expect(report.jobs[1].badRecords == 1)
        #expect(report.jobs[1].badRecordList.count == 1)
        #expect(report.jobs[1].badRecordList.first?.contains("lenient.jsonl:6: \(reason)") == true)
        #expect(report.jobs[1].items == 5)
    }

    /// The jobs lease from the pool the batch holds: while a job runs, the batch's reference is the only one.
    @Test func jobsUseTheBatchsPoolReferenceAndTakeNoneOfTheirOwn() async throws {
        let fixture = try BatchFixture("one-reference")
        let settings = try fixture.settings()
        defer { fixture.remove(settings) }
        try fixture.write("data/messages.jsonl", Self.aliceAndBob)
        let jobs =
            "jobs:\n  - {name: ingest, kind: ingest, source: data/messages.jsonl}\n"
            + "  - {name: query, kind: query, user: alice, queries: [sourdough], depends_on: ingest}\n"
        let manager = GlobalConnectionManager()
        let holdersWhileRunning = Locked<[String: [String]]>([:])
        let runner = fixture.runner(settings, manager: manager) { progress in
            guard case .started(let job, _, _) = progress else { return }
            let holders = manager.leakReport().activeReferences.map(\.holder)
            holdersWhileRunning.withLock { $0[job] = holders }
        }
        let report = await runner.run(try JobLoader.load(files: [try fixture.write("batch.yaml", jobs)]))
        #expect(report.jobs.map(\.status) == [.ok, .ok])
        let seen = holdersWhileRunning.withLock { $0 }
        #expect(seen.keys.sorted() == ["ingest", "query"])
        #expect(seen.values.allSatisfy { $0 == ["batch \(report.batch.id)"] }, "\(seen)")
        #expect(report.leaks.ok && manager.leakReport().isClean)
    }
}
