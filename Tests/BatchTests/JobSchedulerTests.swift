import Foundation
import Postgres
import Support
import Testing

@testable import Batch

@Suite struct JobSchedulerTests {
    /// A scheduler whose jobs hand back a `String`.
    private func scheduler(_ nodes: [(String, [String])], parallel: Int) -> JobScheduler<String> {
        JobScheduler(nodes: nodes.map { .init(name: $0.0, dependsOn: $0.1) }, parallelJobs: parallel)
    }

    @Test func dependenciesRunFirstAndFailuresSkipTheirDependents() async {
        let log = Locked<[String]>([])
        let jobs = [("a", []), ("b", ["a"]), ("c", []), ("d", ["c"]), ("e", ["d"]), ("f", ["b", "c"])]
        let outcomes = await scheduler(jobs, parallel: 2).run { index in
            let name = jobs[index].0
            log.withLock { $0.append(name) }
            return .init(result: "did \(name)", succeeded: name != "c")
        }
        // Each job that ran comes back with what it did, a failed one too, in the jobs' order.
        #expect(
            outcomes == [
                .succeeded("did a"), .succeeded("did b"), .failed("did c"), .skipped(dependency: "c"),
                .skipped(dependency: "d"), .skipped(dependency: "c"),
            ])
        #expect(outcomes.map(\.result) == ["did a", "did b", "did c", nil, nil, nil])
        let order = log.withLock { $0 }
        #expect(Set(order) == ["a", "b", "c"])
        #expect((order.firstIndex(of: "a") ?? .max) < (order.firstIndex(of: "b") ?? .min))
    }

    @Test func neverMoreThanParallelJobsAtOnce() async {
        let state = Locked((running: 0, peak: 0))
        let outcomes = await scheduler((0..<20).map { ("job\($0)", []) }, parallel: 8).run { _ in
            state.withLock {
                $0.running += 1
                $0.peak = max($0.peak, $0.running)
            }
            try? await Task.sleep(for: .milliseconds(5))
            state.withLock { $0.running -= 1 }
            return .init(result: "", succeeded: true)
        }
        #expect(outcomes.allSatisfy { $0.succeeded })
        #expect(state.withLock { $0.peak } == 8)
    }

    @Test func independentJobsStartInFileOrder() async {
        let log = Locked<[Int]>([])
        _ = await scheduler((0..<6).map { ("job\($0)", []) }, parallel: 1).run { index in
            log.withLock { $0.append(index) }
            return .init(result: "", succeeded: true)
        }
        #expect(log.withLock { $0 } == Array(0..<6))
    }
}

@Suite struct PoolUsageTests {
    @Test func percentilesAreNearestRank() {
        let values = (1...100).map(Double.init)
        let percentiles = PoolUsage.Percentiles.of(values)
        #expect(percentiles == .init(p50: 50, p95: 95, max: 100))
        #expect(PoolUsage.Percentiles.of([]) == .init(p50: 0, p95: 0, max: 0))
        #expect(PoolUsage.Percentiles.of([7]) == .init(p50: 7, p95: 7, max: 7))
    }
}

@Suite struct ExitStatusTests {
    private func report(failed: Int = 0, skipped: Int = 0, leakFree: Bool = true) -> BatchReport {
        BatchReport(
            batch: .init(
                id: "t", startedAt: Date(), finishedAt: Date(), durationS: 0, status: .ok, jobsTotal: 3,
                jobsOK: 3 - failed - skipped, jobsFailed: failed, jobsSkipped: skipped
            ),
            pools: [:],
            jobs: [],
            leaks: .init(ok: leakFree, outstandingLeases: [], activeReferences: [], openPools: [])
        )
    }

    /// The numbers are the README's exit code table; each status is written once, in ``ExitStatus``.
    @Test func exitStatusFollowsTheDocumentedCodes() {
        #expect(report().exitStatus(failOnLeak: true).rawValue == 0)
        #expect(report(failed: 1).exitStatus(failOnLeak: true).rawValue == 1)
        #expect(report(skipped: 1).exitStatus(failOnLeak: true).rawValue == 1)
        #expect(report(leakFree: false).exitStatus(failOnLeak: true).rawValue == 3)
        #expect(report(leakFree: false).exitStatus(failOnLeak: false).rawValue == 0)
        #expect(report(failed: 1, leakFree: false).exitStatus(failOnLeak: true).rawValue == 1)
    }
}

@Suite struct ReportStatusTests {
    /// The statuses are enums in the code and the same strings as before in the JSON report.
    @Test func statusesEncodeAsTheDocumentedStrings() throws {
        let jobStatuses: [JobStatus] = [.ok, .failed, .skipped, .interrupted, .notStarted]
        let batchStatuses: [BatchStatus] = [.ok, .failed, .interrupted, .unreachable]
        let encoder = JSONEncoder()
        #expect(
            String(decoding: try encoder.encode(jobStatuses), as: UTF8.self)
                == #"["ok","failed","skipped","interrupted","not_started"]"#)
        #expect(
            String(decoding: try encoder.encode(batchStatuses), as: UTF8.self)
                == #"["ok","failed","interrupted","unreachable"]"#)
    }
}
