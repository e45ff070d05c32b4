import PoolConfiguration

/// The pool's decisions as a value type: events go in, actions come out; no I/O, no clock, no locks.
///
/// Keeping every decision here (who gets which connection, when to open, close, time out, warn, retry or finish
/// closing) makes each one a deterministic unit test, and leaves the driver, ``ConnectionPool``, with nothing to
/// decide: it only opens and closes connections, resumes tasks and sets its one timer as told. Time comes in with each
/// event, so tests control it; when the machine next needs to hear the time it says so (``Action/scheduleWakeUp(at:)``,
/// see `PoolStateMachine+Timers.swift`), so nothing polls it.
///
/// `package`, not internal, only so that `make bench` can time it alone.
package struct PoolStateMachine {
    package typealias ConnectionID = Int
    package typealias RequestID = Int

    /// Who holds a lease, for leak warnings and timeout errors.
    package struct Holder: Sendable, Equatable {
        /// The job and task, e.g. `ingest-alice task 3`.
        var name: String
        /// `#fileID` and `#line` of the `withConnection` call, kept apart and joined only when shown: joining them
        /// costs an allocation on every lease, and they are shown only in warnings and errors.
        var file: String
        var line: Int

        package init(name: String, file: String, line: Int) {
            self.name = name
            self.file = file
            self.line = line
        }

        /// `file:line`, as warnings, errors and the leak report show it.
        var callSite: String { "\(file):\(line)" }
    }

    package struct Lease: Sendable, Equatable {
        var connection: ConnectionID
        var request: RequestID
        var holder: Holder
        var started: Moment
        var warned = false
        /// Closed under its holder because the pool's drain time ran out (see ``Action/cutConnection(_:)``).
        var cut = false

        /// When the lease began.
        var since: ContinuousClock.Instant { started.instant }
    }

    package enum Failure: Sendable, Equatable {
        /// Nothing came free in time; carries what the error message shows.
        case timedOut(waiting: Int, holders: [Holder])
        /// The pool is closing or closed.
        case closed
        /// Connections cannot be opened and none is in use that could come back.
        case connectFailed
        /// The request's task was cancelled while it waited.
        case cancelled
    }

    package enum Action: Sendable, Equatable {
        case openConnection(ConnectionID)
        case closeConnection(ConnectionID)
        /// Close a leased connection under its holder, whose statement then fails: the drain time ran out. The lease
        /// stays (and shows in the leak report) until the holder gives it back.
        case cutConnection(ConnectionID)
        /// Hand the connection to the request; with `check`, it sat idle long enough (`idleCheckAfter`) that the
        /// driver checks it first, and returns it as broken if the check fails.
        case lease(ConnectionID, to: RequestID, check: Bool = false)
        case fail(RequestID, Failure)
        case warnLeak(Lease)
        /// Call ``timerFired(now:)`` at this instant, instead of at the one scheduled before.
        case scheduleWakeUp(at: Moment)
        /// The scheduled wake-up is not needed any more.
        case cancelWakeUp
        /// Closing is complete: every connection is closed, or was cut and its holder's grace ran out.
        case closed
    }

    /// How a connection came back.
    package enum ReturnState: Sendable, Equatable {
        /// Clean: idle and no transaction open.
        case clean
        /// It had to be rolled back (left in a transaction); usable, but counted as a bad return.
        case rolledBack
        /// It broke (killed backend, lost socket, failed rollback) and must go.
        case broken
    }

    enum ConnectionState {
        case opening
        case idle(since: Moment)
        case leased(Lease)
    }

    struct Connection {
        var state: ConnectionState
        var openedAt: Moment?
    }

    let settings: PoolSettings
    var counters = Counters()
    var isClosing = false
    var connections: [ConnectionID: Connection] = [:]
    /// Idle connections, most recently returned last: leases take the warmest, idle expiry takes the coldest.
    var idle: [ConnectionID] = []
    var waiting = RequestQueue()
    private var nextConnectionID = 1
    var openingCount = 0
    var leasedCount = 0
    /// After a failed open, no new attempt before this instant (doubling backoff), so a dead server is not hammered.
    var retryNotBefore: Moment?
    private var retryDelay: Duration = .zero
    /// The instant the driver's timer is set for, if it is set (see `PoolStateMachine+Timers.swift`).
    var wakeUpAt: Moment?
    /// What closing has reached (see `PoolStateMachine+Closing.swift`).
    var closing = Closing()

    static let firstRetryDelay: Duration = .milliseconds(100)
    static let maximumRetryDelay: Duration = .seconds(5)

    package init(settings: PoolSettings) {
        self.settings = settings
    }

    // MARK: Events

    /// Opens the `minSize` connections.
    package mutating func start(now: ContinuousClock.Instant) -> [Action] {
        let now = Moment(now)
        var actions: [Action] = []
        replenish(now: now, into: &actions)
        return actions
    }

    /// A task wants a connection.
    package mutating func requestLease(
        _ request: RequestID,
        holder: Holder,
        now: ContinuousClock.Instant
    ) -> [Action] {
        let now = Moment(now)
        counters.requests += 1
        guard !isClosing else { return [.fail(request, .closed)] }
        var actions: [Action] = []
        while waiting.isEmpty, let connection = idle.popLast() {
            guard !isPastLifetime(connection, now: now) else {
                // Recycled here rather than handed out: the lifetime is a promise, not a hint for the next wake-up.
                connections[connection] = nil
                actions.append(.closeConnection(connection))
                continue
            }
            var check = true
            if case .idle(let since)? = connections[connection]?.state {
                check = now - since >= settings.idleCheckAfter
            }
            lease(connection, to: request, holder: holder, check: check, now: now, into: &actions)
            return actions
        }
        let deadline = now + settings.acquireTimeout
        waiting.append(.init(id: request, enqueuedAt: now, deadline: deadline))
        holders[request] = holder
        wake(by: deadline, into: &actions)
        replenish(now: now, into: &actions)
        return actions
    }

    /// The waiting request's task was cancelled.
    mutating func cancelRequest(_ request: RequestID, now: ContinuousClock.Instant) -> [Action] {
        let now = Moment(now)
        guard let entry = waiting.remove(request) else { return [] }
        holders[request] = nil
        counters.waitTime += now - entry.enqueuedAt
        return [.fail(request, .cancelled)]
    }

    package mutating func connectionOpened(_ connection: ConnectionID, now: ContinuousClock.Instant) -> [Action] {
        let now = Moment(now)
        guard case .opening = connections[connection]?.state else { return [] }
        openingCount -= 1
        counters.connectionsOpened += 1
        retryNotBefore = nil
        retryDelay = .zero
        update(connection) { $0.openedAt = now }
        var actions: [Action] = []
        if isClosing {
            connections[connection] = nil
            actions.append(.closeConnection(connection))
            finishClosingIfDone(now: now, into: &actions)
            return actions
        }
        makeAvailable(connection, now: now, into: &actions)
        return actions
    }

    mutating func connectionFailed(_ connection: ConnectionID, now: ContinuousClock.Instant) -> [Action] {
        let now = Moment(now)
        guard case .opening = connections[connection]?.state else { return [] }
        connections[connection] = nil
        openingCount -= 1
        counters.connectionErrors += 1
        retryDelay = min(Self.maximumRetryDelay, max(Self.firstRetryDelay, retryDelay * 2))
        retryNotBefore = now + retryDelay
        var actions: [Action] = []
        if isClosing {
            finishClosingIfDone(now: now, into: &actions)
            return actions
        }
        // With nothing in use that could come back and nothing else opening, waiting longer only delays the error.
        if leasedCount == 0, openingCount == 0 {
            actions = waiting.removeAll().map { entry in
                holders[entry.id] = nil
                counters.waitTime += now - entry.enqueuedAt
                return .fail(entry.id, .connectFailed)
            }
        }
        // Backing off: this only sets the wake-up for the next attempt, if one is wanted.
        replenish(now: now, into: &actions)
        return actions
    }

    /// A lease ended; the driver has already rolled back a transaction left open, or found the connection broken.
    package mutating func connectionReturned(
        _ connection: ConnectionID,
        state: ReturnState,
        now: ContinuousClock.Instant
    ) -> [Action] {
        let now = Moment(now)
        guard case .leased(let lease) = connections[connection]?.state else { return [] }
        leasedCount -= 1
        counters.usageTime += now - lease.started
        if state != .clean { counters.badReturns += 1 }
        var actions: [Action] = []
        if state == .broken || isPastLifetime(connection, now: now) || isClosing {
            if state == .broken { counters.connectionsLost += 1 }
            connections[connection] = nil
            actions.append(.closeConnection(connection))
            if isClosing {
                finishClosingIfDone(now: now, into: &actions)
            } else {
                replenish(now: now, into: &actions)
            }
        } else {
            makeAvailable(connection, now: now, into: &actions)
        }
        return actions
    }

    // MARK: State

    /// The leases now held.
    var leases: [Lease] {
        connections.values.compactMap { connection in
            if case .leased(let lease) = connection.state { return lease }
            return nil
        }
        .sorted { $0.request < $1.request }
    }

    /// Connections open or opening, idle ones, leased ones and waiting requests, for statistics.
    var gauges: (size: Int, available: Int, leased: Int, waiting: Int) {
        (connections.count, idle.count, leasedCount, waiting.count)
    }

    // MARK: Private

    /// Holders of waiting requests; they become lease holders when served.
    var holders: [RequestID: Holder] = [:]

    var leaseHolders: [Holder] { leases.map(\.holder) }

    func isPastLifetime(_ connection: ConnectionID, now: Moment) -> Bool {
        guard let lifetime = settings.maxLifetime, let openedAt = connections[connection]?.openedAt else {
            return false
        }
        return now - openedAt >= lifetime
    }

    /// Changes the entry of `connection`, if there is one, by copy and write-back. Not `connections[id]?.x = …`:
    /// the dictionary's modify accessor is a coroutine whose frame, for an entry this size, is allocated on the heap,
    /// which came to 17 allocations per lease and return (measured by make bench).
    mutating func update(_ connection: ConnectionID, _ change: (inout Connection) -> Void) {
        guard var entry = connections[connection] else { return }
        change(&entry)
        connections.updateValue(entry, forKey: connection)
    }

    /// Gives `connection` to the first waiting request, or parks it idle.
    private mutating func makeAvailable(_ connection: ConnectionID, now: Moment, into actions: inout [Action]) {
        guard let next = waiting.popFirst() else {
            var openedAt: Moment?
            update(connection) { entry in
                entry.state = .idle(since: now)
                openedAt = entry.openedAt
            }
            idle.append(connection)
            // An idle connection past its lifetime is closed at the wake-up (a leased one when it comes back).
            if let lifetime = settings.maxLifetime, let openedAt { wake(by: openedAt + lifetime, into: &actions) }
            // Idle expiry closes the coldest first, and only above minSize; it is due when the coldest has idled long.
            if let idleTimeout = settings.idleTimeout, connections.count > settings.minSize,
                case .idle(let since)? = connections[idle[0]]?.state
            {
                wake(by: since + idleTimeout, into: &actions)
            }
            return
        }
        counters.waitTime += now - next.enqueuedAt
        let holder = holders.removeValue(forKey: next.id) ?? Holder(name: "unknown", file: "unknown", line: 0)
        lease(connection, to: next.id, holder: holder, now: now, into: &actions)
    }

    /// Leases `connection`; `check` only for one taken from the idle list (a connection handed straight from its
    /// return or its opening to a waiter was in use a moment ago).
    private mutating func lease(
        _ connection: ConnectionID,
        to request: RequestID,
        holder: Holder,
        check: Bool = false,
        now: Moment,
        into actions: inout [Action]
    ) {
        let lease = Lease(connection: connection, request: request, holder: holder, started: now)
        update(connection) { $0.state = .leased(lease) }
        leasedCount += 1
        counters.peakLeased = max(counters.peakLeased, leasedCount)
        actions.append(.lease(connection, to: request, check: check))
        if let threshold = settings.leakThreshold { wake(by: now + threshold, into: &actions) }
    }

    /// Connections wanted beyond those open or opening: up to `minSize`, and one per request nothing is opening for,
    /// within `maxSize`.
    var connectionsWanted: Int {
        let wanted = max(settings.minSize - connections.count, waiting.count - openingCount)
        return max(0, min(wanted, settings.maxSize - connections.count))
    }

    /// Opens the connections wanted, unless backing off after a failure: then it asks to be woken when the backoff
    /// ends.
    mutating func replenish(now: Moment, into actions: inout [Action]) {
        guard !isClosing else { return }
        let wanted = connectionsWanted
        guard wanted > 0 else { return }
        if let retryNotBefore, now < retryNotBefore {
            wake(by: retryNotBefore, into: &actions)
            return
        }
        for _ in 0..<wanted {
            let id = nextConnectionID
            nextConnectionID += 1
            connections[id] = Connection(state: .opening, openedAt: nil)
            openingCount += 1
            actions.append(.openConnection(id))
        }
    }
}

extension PoolStateMachine {
    /// Running totals, in the units psycopg_pool reports them.
    struct Counters: Sendable, Equatable {
        var requests = 0
        var timeouts = 0
        var waitTime: Duration = .zero
        var usageTime: Duration = .zero
        var badReturns = 0
        var connectionsOpened = 0
        var connectionErrors = 0
        var connectionsLost = 0
        var peakLeased = 0
    }
}
