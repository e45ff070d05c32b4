import Foundation
import PoolConfiguration
import Testing

@testable import ConnectionPool

@Suite struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine
    let start = ContinuousClock.now
    let holder = Machine.Holder(name: "job task", file: "File.swift", line: 1)

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    /// The action that sets the driver's timer for `milliseconds`.
    func wakeUp(_ milliseconds: Int) -> Machine.Action { .scheduleWakeUp(at: .init(at(milliseconds))) }

    func machine(
        min: Int = 0, max: Int = 2, timeout: Int = 1000, lifetime: Int? = nil, idle: Int? = nil, leak: Int? = nil,
        checkAfter: Int = 500
    )
        -> Machine
    {
        Machine(
            settings: PoolSettings(
                minSize: min,
                maxSize: max,
                acquireTimeout: .milliseconds(timeout),
                maxLifetime: lifetime.map { .milliseconds($0) },
                idleTimeout: idle.map { .milliseconds($0) },
                leakThreshold: leak.map { .milliseconds($0) },
                idleCheckAfter: .milliseconds(checkAfter)
            )
        )
    }

    @Test func startOpensMinSize() {
        var pool = machine(min: 2, max: 4)
        #expect(pool.start(now: at(0)) == [.openConnection(1), .openConnection(2)])
        #expect(pool.gauges.size == 2)
    }

    @Test func anIdleConnectionIsLeasedAtOnce() {
        var pool = machine(min: 1)
        _ = pool.start(now: at(0))
        #expect(pool.connectionOpened(1, now: at(1)) == [])
        #expect(pool.requestLease(10, holder: holder, now: at(2)) == [.lease(1, to: 10)])
        #expect(pool.gauges.leased == 1 && pool.counters.peakLeased == 1)
    }

    @Test func aConnectionIdleForTheCheckWindowIsCheckedAndOneUsedAMomentAgoIsNot() {
        var pool = machine(min: 1, max: 1, checkAfter: 500)
        _ = pool.start(now: at(0))
        _ = pool.connectionOpened(1, now: at(0))
        #expect(pool.requestLease(1, holder: holder, now: at(499)) == [.lease(1, to: 1, check: false)])
        _ = pool.connectionReturned(1, state: .clean, now: at(500))
        #expect(pool.requestLease(2, holder: holder, now: at(1000)) == [.lease(1, to: 2, check: true)])
        // Handed from its return straight to a waiter: it was in use a moment ago.
        _ = pool.requestLease(3, holder: holder, now: at(5000))
        #expect(pool.connectionReturned(1, state: .clean, now: at(9000)) == [.lease(1, to: 3, check: false)])
    }

    @Test func aZeroCheckWindowChecksEveryLeaseFromTheIdleList() {
        var pool = machine(min: 1, max: 1, checkAfter: 0)
        _ = pool.start(now: at(0))
        _ = pool.connectionOpened(1, now: at(0))
        #expect(pool.requestLease(1, holder: holder, now: at(0)) == [.lease(1, to: 1, check: true)])
    }

    @Test func demandOpensUpToMaxSizeAndNoFurther() {
        var pool = machine(max: 2)
        #expect(pool.requestLease(1, holder: holder, now: at(0)) == [wakeUp(1000), .openConnection(1)])
        #expect(pool.requestLease(2, holder: holder, now: at(0)) == [.openConnection(2)])
        #expect(pool.requestLease(3, holder: holder, now: at(0)) == [])
        #expect(pool.gauges.size == 2 && pool.gauges.waiting == 3)
        #expect(pool.connectionOpened(2, now: at(5)) == [.lease(2, to: 1)])
        #expect(pool.connectionOpened(1, now: at(6)) == [.lease(1, to: 2)])
    }

    @Test func waitersAreServedFirstComeFirstServed() {
        var pool = machine(max: 1)
        _ = pool.requestLease(1, holder: holder, now: at(0))
        _ = pool.connectionOpened(1, now: at(1))
        for request in 2...5 { _ = pool.requestLease(request, holder: holder, now: at(request)) }
        var served: [Int] = []
        for _ in 2...5 {
            guard case .lease(1, let request, _) = pool.connectionReturned(1, state: .clean, now: at(10)).first else {
                Issue.record("expected a lease")
                return
            }
            served.append(request)
        }
        #expect(served == [2, 3, 4, 5])
        #expect(pool.connectionReturned(1, state: .clean, now: at(20)) == [])
        #expect(pool.gauges.available == 1)
        // An idle connection is not taken ahead of a waiter: none waits now, so the next request gets it.
        #expect(pool.requestLease(6, holder: holder, now: at(21)) == [.lease(1, to: 6)])
    }

    @Test func aCancelledWaiterLeavesTheQueueAtOnce() {
        var pool = machine(max: 1)
        _ = pool.requestLease(1, holder: holder, now: at(0))
        _ = pool.connectionOpened(1, now: at(1))
        _ = pool.requestLease(2, holder: holder, now: at(2))
        _ = pool.requestLease(3, holder: holder, now: at(3))
        #expect(pool.cancelRequest(2, now: at(4)) == [.fail(2, .cancelled)])
        #expect(pool.cancelRequest(2, now: at(4)) == [])
        #expect(pool.cancelRequest(1, now: at(4)) == [])
        #expect(pool.connectionReturned(1, state: .clean, now: at(5)) == [.lease(1, to: 3)])
    }

    @Test func waitersTimeOutNamingWhoHoldsTheConnections() {
        var pool = machine(max: 1, timeout: 100)
        _ = pool.requestLease(
            1, holder: Machine.Holder(name: "ingest task 1", file: "Ingest.swift", line: 9), now: at(0))
        _ = pool.connectionOpened(1, now: at(1))
        _ = pool.requestLease(2, holder: holder, now: at(10))
        _ = pool.requestLease(3, holder: holder, now: at(50))
        // Set for request 1, served since: the one wake-up finds nothing due and sets the timer for request 2.
        #expect(pool.scheduledWakeUp == at(100))
        #expect(pool.timerFired(now: at(100)) == [wakeUp(110)])
        let holders = [Machine.Holder(name: "ingest task 1", file: "Ingest.swift", line: 9)]
        #expect(pool.timerFired(now: at(110)) == [.fail(2, .timedOut(waiting: 1, holders: holders)), wakeUp(150)])
        #expect(pool.timerFired(now: at(150)) == [.fail(3, .timedOut(waiting: 0, holders: holders))])
        #expect(pool.scheduledWakeUp == nil)
        #expect(pool.counters.timeouts == 2)
        #expect(pool.counters.waitTime == .milliseconds(201))
    }

    @Test func aRolledBackReturnIsCountedBadButReused() {
        var pool = machine(max: 1)
        _ = pool.requestLease(1, holder: holder, now: at(0))
        _ = pool.connectionOpened(1, now: at(0))
        #expect(pool.connectionReturned(1, state: .rolledBack, now: at(30)) == [])
        #expect(pool.counters.badReturns == 1 && pool.counters.usageTime == .milliseconds(30))
        #expect(pool.gauges.available == 1)
    }

    @Test func aBrokenConnectionIsClosedAndReplacedForTheNextWaiter() {
        var pool = machine(min: 1, max: 1)
        _ = pool.start(now: at(0))
        _ = pool.connectionOpened(1, now: at(1))
        _ = pool.requestLease(1, holder: holder, now: at(2))
        _ = pool.requestLease(2, holder: holder, now: at(3))
        #expect(pool.connectionReturned(1, state: .broken, now: at(4)) == [.closeConnection(1), .openConnection(2)])
        #expect(pool.counters.connectionsLost == 1 && pool.counters.badReturns == 1)
        #expect(pool.connectionOpened(2, now: at(5)) == [.lease(2, to: 2)])
    }

    @Test func connectionsPastTheirLifetimeAreRecycled() {
        var pool = machine(min: 1, max: 2, lifetime: 100)
        _ = pool.start(now: at(0))
        #expect(pool.connectionOpened(1, now: at(0)) == [wakeUp(100)])
        _ = pool.requestLease(1, holder: holder, now: at(10))
        #expect(pool.connectionReturned(1, state: .clean, now: at(100)) == [.closeConnection(1), .openConnection(2)])
        #expect(pool.connectionOpened(2, now: at(101)) == [])
        #expect(pool.timerFired(now: at(101)) == [wakeUp(201)])
        #expect(pool.timerFired(now: at(201)) == [.closeConnection(2), .openConnection(3)])
        #expect(pool.scheduledWakeUp == nil)
        #expect(pool.connectionOpened(3, now: at(210)) == [wakeUp(310)])
    }

    @Test func idleConnectionsAboveMinSizeAreClosed() {
        var pool = machine(min: 1, max: 3, idle: 100)
        _ = pool.start(now: at(0))
        _ = pool.connectionOpened(1, now: at(0))
        for request in 1...3 { _ = pool.requestLease(request, holder: holder, now: at(0)) }
        _ = pool.connectionOpened(2, now: at(0))
        _ = pool.connectionOpened(3, now: at(0))
        #expect(pool.connectionReturned(1, state: .clean, now: at(10)) == [wakeUp(110)])
        #expect(pool.connectionReturned(2, state: .clean, now: at(20)) == [])
        #expect(pool.connectionReturned(3, state: .clean, now: at(30)) == [])
        #expect(pool.timerFired(now: at(110)) == [.closeConnection(1), wakeUp(120)])
        #expect(pool.timerFired(now: at(120)) == [.closeConnection(2)])
        #expect(pool.gauges.size == 1)
        #expect(pool.scheduledWakeUp == nil)
    }

    @Test func aLongLeaseIsReportedOnce() {
        var pool = machine(max: 1, leak: 100)
        _ = pool.requestLease(1, holder: holder, now: at(0))
        #expect(pool.connectionOpened(1, now: at(5)) == [.lease(1, to: 1), wakeUp(105)])
        let lease = Machine.Lease(connection: 1, request: 1, holder: holder, started: .init(at(5)), warned: true)
        #expect(pool.timerFired(now: at(105)) == [.warnLeak(lease)])
        #expect(pool.scheduledWakeUp == nil)
        #expect(pool.timerFired(now: at(500)) == [])
        #expect(pool.leases == [lease])
    }

    @Test func closingRefusesFailsWaitersAndClosesEveryConnection() {
        var pool = machine(min: 2, max: 3)
        _ = pool.start(now: at(0))
        _ = pool.connectionOpened(1, now: at(0))
        _ = pool.requestLease(1, holder: holder, now: at(1))
        _ = pool.requestLease(2, holder: holder, now: at(1))
        _ = pool.requestLease(3, holder: holder, now: at(1))
        #expect(pool.gauges.waiting == 2)
        #expect(
            pool.close(now: at(2), drain: .milliseconds(100), grace: .zero) == [
                .fail(2, .closed), .fail(3, .closed), wakeUp(102),
            ])
        #expect(pool.requestLease(4, holder: holder, now: at(3)) == [.fail(4, .closed)])
        #expect(pool.connectionOpened(2, now: at(4)) == [.closeConnection(2)])
        #expect(!pool.isClosed)
        #expect(pool.connectionReturned(1, state: .clean, now: at(5)) == [.closeConnection(1)])
        #expect(pool.connectionFailed(3, now: at(6)) == [.closed, .cancelWakeUp])
        #expect(pool.isClosed && pool.gauges.size == 0)
        #expect(pool.timerFired(now: at(10_000)) == [])
    }

    @Test func closingWithNothingOutIsCompleteAtOnce() {
        var pool = machine(min: 1, max: 1, idle: 100)
        _ = pool.start(now: at(0))
        _ = pool.connectionOpened(1, now: at(0))
        #expect(pool.close(now: at(1), drain: .seconds(30), grace: .seconds(1)) == [.closeConnection(1), .closed])
        #expect(pool.close(now: at(2), drain: .zero, grace: .zero) == [])
    }

    @Test func leasesPastTheDrainTimeAreCutAndClosingCompletesWhenTheyComeBack() {
        var pool = machine(max: 1)
        _ = pool.requestLease(1, holder: holder, now: at(0))
        _ = pool.connectionOpened(1, now: at(0))
        #expect(pool.close(now: at(10), drain: .milliseconds(100), grace: .milliseconds(50)) == [wakeUp(110)])
        #expect(pool.timerFired(now: at(110)) == [.cutConnection(1), wakeUp(160)])
        #expect(pool.leases.map(\.cut) == [true])
        #expect(
            pool.connectionReturned(1, state: .broken, now: at(120)) == [.closeConnection(1), .closed, .cancelWakeUp])
        #expect(pool.isClosed && pool.leases.isEmpty)
    }

    @Test func aCutLeaseNotGivenBackEndsClosingAfterTheGraceAndStaysListed() {
        var pool = machine(max: 1)
        _ = pool.requestLease(1, holder: holder, now: at(0))
        _ = pool.connectionOpened(1, now: at(0))
        #expect(pool.close(now: at(10), drain: .seconds(30), grace: .milliseconds(50)) == [])
        // A second close that forces it: its shorter drain wins.
        #expect(pool.close(now: at(20), drain: .zero, grace: .seconds(9)) == [.cutConnection(1), wakeUp(70)])
        #expect(pool.timerFired(now: at(70)) == [.closed])
        #expect(pool.isClosed && pool.leases.count == 1)
        #expect(pool.connectionReturned(1, state: .broken, now: at(80)) == [.closeConnection(1)])
        #expect(pool.leases.isEmpty)
    }

    @Test func failedOpensFailWaitersWhenNothingCanComeBackAndBackOff() {
        var pool = machine(min: 1, max: 2)
        #expect(pool.start(now: at(0)) == [.openConnection(1)])
        _ = pool.requestLease(1, holder: holder, now: at(0))
        #expect(pool.connectionFailed(1, now: at(10)) == [.fail(1, .connectFailed), wakeUp(110)])
        #expect(pool.counters.connectionErrors == 1)
        #expect(pool.requestLease(2, holder: holder, now: at(50)) == [])
        #expect(pool.timerFired(now: at(110)) == [.openConnection(2), wakeUp(1050)])
        #expect(pool.connectionFailed(2, now: at(120)) == [.fail(2, .connectFailed), wakeUp(320)])
        #expect(pool.timerFired(now: at(320)) == [.openConnection(3)])
        #expect(pool.scheduledWakeUp == nil)
    }

    @Test func failedOpensLeaveWaitersWhileAConnectionIsInUse() {
        var pool = machine(max: 2)
        _ = pool.requestLease(1, holder: holder, now: at(0))
        _ = pool.connectionOpened(1, now: at(0))
        #expect(pool.requestLease(2, holder: holder, now: at(1)) == [.openConnection(2)])
        #expect(pool.connectionFailed(2, now: at(2)) == [wakeUp(102)])
        #expect(pool.connectionReturned(1, state: .clean, now: at(3)) == [.lease(1, to: 2)])
    }

    /// Random events from a fixed seed: whatever happens, connections never exceed maxSize and every request ends
    /// exactly once.
    @Test func randomEventsNeverExceedMaxSize() {
        var generator = SplitMix64(seed: 42)
        var pool = machine(min: 1, max: 4, timeout: 50, lifetime: 400, idle: 80, leak: 30)
        var opening: Set<Int> = []
        var leased: Set<Int> = []
        var waiting: Set<Int> = []
        var ended = 0
        var nextRequest = 1
        var now = 0
        func handle(_ actions: [Machine.Action]) {
            for action in actions {
                switch action {
                case .openConnection(let id): opening.insert(id)
                case .closeConnection: break
                case .lease(let id, let request, _):
                    #expect(waiting.remove(request) != nil || request == nextRequest - 1)
                    leased.insert(id)
                case .fail(let request, _):
                    #expect(waiting.remove(request) != nil || request == nextRequest - 1)
                    ended += 1
                case .warnLeak, .cutConnection, .scheduleWakeUp, .cancelWakeUp, .closed: break
                }
            }
        }
        handle(pool.start(now: at(0)))
        for _ in 0..<20_000 {
            now += Int(generator.next() % 5)
            switch generator.next() % 6 {
            case 0, 1:
                waiting.insert(nextRequest)
                nextRequest += 1
                handle(pool.requestLease(nextRequest - 1, holder: holder, now: at(now)))
            case 2:
                if let id = opening.randomElement(using: &generator) {
                    opening.remove(id)
                    handle(
                        generator.next() % 10 == 0
                            ? pool.connectionFailed(id, now: at(now)) : pool.connectionOpened(id, now: at(now)))
                }
            case 3:
                if let id = leased.randomElement(using: &generator) {
                    leased.remove(id)
                    ended += 1
                    let state: Machine.ReturnState = [.clean, .clean, .rolledBack, .broken][Int(generator.next() % 4)]
                    handle(pool.connectionReturned(id, state: state, now: at(now)))
                }
            case 4:
                if let request = waiting.randomElement(using: &generator) {
                    handle(pool.cancelRequest(request, now: at(now)))
                }
            default:
                // Late as well as on time: a timer may fire after its instant on a busy machine.
                handle(pool.timerFired(now: at(now)))
            }
            // The timer is never set later than the earliest deadline, so nothing that is due waits for an event.
            if let earliest = pool.nextDeadline(after: .init(start - .seconds(3600))) {
                #expect(pool.scheduledWakeUp.map { $0 <= earliest.instant } == true)
            }
            #expect(pool.gauges.size <= 4)
            #expect(pool.gauges.leased == leased.count)
            #expect(pool.gauges.waiting == waiting.count)
        }
        #expect(ended + leased.count + waiting.count == nextRequest - 1)
        #expect(pool.counters.peakLeased <= 4)
    }
}

/// A small deterministic generator, so the random test replays the same events every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

@Suite struct PoolStatisticsTests {
    @Test func statisticsUseTheSeedsAndPsycopgsKeys() throws {
        let statistics = PoolStatistics(
            minSize: 10, maxSize: 30, timeout: 30, recycle: 3600, activeReferences: 5, poolClosed: false, poolSize: 12,
            poolAvailable: 2, leased: 10, peakLeased: 11, requestsNum: 100, requestsWaiting: 3, requestsWaitMs: 12.5,
            requestsTimeouts: 1, usageMs: 900, returnsBad: 2, connectionsNum: 13, connectionsErrors: 1,
            connectionsLost: 1
        )
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(statistics)) as? [String: Any]
        #expect(
            Set(object?.keys.map { $0 } ?? []) == [
                "min_size", "max_size", "timeout", "recycle", "active_references", "pool_closed", "pool_size",
                "pool_available", "leased", "peak_leased", "requests_num", "requests_waiting", "requests_wait_ms",
                "requests_timeouts", "usage_ms", "returns_bad", "connections_num", "connections_errors",
                "connections_lost",
            ]
        )
        #expect(object?["active_references"] as? Int == 5)
    }
}
