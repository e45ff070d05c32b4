import CAllocationCounter
import ConnectionPool
import PoolConfiguration
import Support

/// Item 2's last part: the pool's decisions alone, without I/O, tasks or locks: what a lease and its return cost in
/// ``PoolStateMachine`` itself.
struct StateMachineResult: Codable, Sendable {
    /// Lease-and-return cycles per run.
    var cycles: Int
    var runs: Int
    /// The fastest run's time per cycle (one `requestLease` and one `connectionReturned`).
    var nanosecondsPerCycle: Double
    /// Heap allocations per cycle, counted by the bench's malloc (the same in every run).
    var allocationsPerCycle: Double
    /// The same with a queue: every lease waits behind another first, so each return hands the connection on.
    var queuedNanosecondsPerCycle: Double
    var queuedAllocationsPerCycle: Double
}

enum StateMachineBench {
    static func run(cycles: Int = 1_000_000, runs: Int = 5) -> StateMachineResult {
        let direct = measure(cycles: cycles, runs: runs, queued: false)
        let queued = measure(cycles: cycles, runs: runs, queued: true)
        return StateMachineResult(
            cycles: cycles, runs: runs, nanosecondsPerCycle: direct.nanoseconds,
            allocationsPerCycle: direct.allocations, queuedNanosecondsPerCycle: queued.nanoseconds,
            queuedAllocationsPerCycle: queued.allocations)
    }

    /// Best time and allocations per cycle over `runs` runs. One connection (`max_size` 1), opened before timing.
    /// Queued: a second request waits while the first holds the connection, so each return is a hand-over.
    private static func measure(cycles: Int, runs: Int, queued: Bool) -> (nanoseconds: Double, allocations: Double) {
        let clock = ContinuousClock()
        let now = clock.now
        let holder = PoolStateMachine.Holder(name: "bench", file: "StateMachineBench", line: 1)
        var best = Double.infinity
        var allocations = 0.0
        var checksum = 0
        for _ in 0..<runs {
            var machine = PoolStateMachine(settings: PoolSettings(minSize: 1, maxSize: 1))
            var opened = 0
            for case .openConnection(let connection) in machine.start(now: now) {
                opened = connection
                checksum &+= machine.connectionOpened(connection, now: now).count
            }
            var request = 0
            if queued { checksum &+= machine.requestLease(request, holder: holder, now: now).count }
            let start = clock.now
            mw_allocations_start()
            for _ in 0..<cycles {
                request += 1
                checksum &+= machine.requestLease(request, holder: holder, now: now).count
                checksum &+= machine.connectionReturned(opened, state: .clean, now: now).count
            }
            let counted = mw_allocations_stop()
            let elapsed = clock.now - start
            best = min(best, Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
            allocations = Double(counted) / Double(cycles)
        }
        // Every call returns at least one action, so the checksum is never zero; using it keeps the loop alive.
        precondition(checksum > 0, "the state machine returned no actions")
        return (best / Double(cycles), allocations)
    }
}
