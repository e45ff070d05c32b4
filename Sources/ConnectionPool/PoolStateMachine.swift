import PoolConfiguration

/// The pool's decisions as a value type: events go in, actions come out; no I/O, no clock, no locks.
///
/// Keeping every decision here (who gets which connection, when to open, close, time out or warn) makes each one a
/// deterministic unit test, and leaves the driver, ``ConnectionPool``, with nothing to decide: it only opens and
/// closes connections and resumes tasks as told. Time comes in with each event, so tests control it.
///
/// `package`, not internal, only so that `make bench` can time it alone.
package struct PoolStateMachine {
    package typealias ConnectionID = Int
    package typealias RequestID = Int

    /// Who holds a lease, for leak warnings and timeout errors.
    package struct Holder: Sendable, Equatable {
        /// The job and task, e.g. `ingest-alice task 3`.
        var name: String
        /// `#fileID:#line` of the `withConnection` call.
        var callSite: String

        package init(name: String, callSite: String) {
            self.name = name
            self.callSite = callSite
        }
    }

    package struct Lease: Sendable, Equatable {
        var connection: ConnectionID
        var request: RequestID
        var holder: Holder
        var started: Moment
        var warned = false

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
        case lease(ConnectionID, to: RequestID)
        case fail(RequestID, Failure)
        case warnLeak(Lease)
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

    private enum ConnectionState {
        case opening
        case idle(since: Moment)
        case leased(Lease)
    }

    private struct Connection {
        var state: ConnectionState
        var openedAt: Moment?
    }

    let settings: PoolSettings
    private(set) var counters = Counters()
    private(set) var isClosing = false
    private var connections: [ConnectionID: Connection] = [:]
    /// Idle connections, most recently returned last: leases take the warmest, idle expiry takes the coldest.
    private var idle: [ConnectionID] = []
    private var waiting = RequestQueue()
    private var nextConnectionID = 1
    private var openingCount = 0
    private var leasedCount = 0
    /// After a failed open, no new attempt before this instant (doubling backoff), so a dead server is not hammered.
    private var retryNotBefore: Moment?
    private var retryDelay: Duration = .zero

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
                // Recycled here rather than handed out: the lifetime is a promise, not a hint for the next tick.
                connections[connection] = nil
                actions.append(.closeConnection(connection))
                continue
            }
            actions.append(lease(connection, to: request, holder: holder, now: now))
            return actions
        }
        waiting.append(.init(id: request, enqueuedAt: now, deadline: now + settings.acquireTimeout))
        holders[request] = holder
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
        if isClosing {
            connections[connection] = nil
            return [.closeConnection(connection)]
        }
        return [makeAvailable(connection, now: now)].compactMap { $0 }
    }

    mutating func connectionFailed(_ connection: ConnectionID, now: ContinuousClock.Instant) -> [Action] {
        let now = Moment(now)
        guard case .opening = connections[connection]?.state else { return [] }
        connections[connection] = nil
        openingCount -= 1
        counters.connectionErrors += 1
        retryDelay = min(Self.maximumRetryDelay, max(Self.firstRetryDelay, retryDelay * 2))
        retryNotBefore = now + retryDelay
        // With nothing in use that could come back and nothing else opening, waiting longer only delays the error.
        guard leasedCount == 0, openingCount == 0 else { return [] }
        return waiting.removeAll().map { entry in
            holders[entry.id] = nil
            counters.waitTime += now - entry.enqueuedAt
            return .fail(entry.id, .connectFailed)
        }
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
            replenish(now: now, into: &actions)
        } else if let action = makeAvailable(connection, now: now) {
            actions.append(action)
        }
        return actions
    }

    /// Time passed: time out waiters, warn about old leases, close expired idle connections, keep `minSize` open.
    mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        let now = Moment(now)
        var actions: [Action] = []
        while let first = waiting.first, first.deadline <= now {
            _ = waiting.popFirst()
            holders[first.id] = nil
            counters.timeouts += 1
            counters.waitTime += now - first.enqueuedAt
            actions.append(.fail(first.id, .timedOut(waiting: waiting.count, holders: leaseHolders)))
        }
        if let threshold = settings.leakThreshold {
            for (id, connection) in connections {
                guard case .leased(var lease) = connection.state, !lease.warned, now - lease.started >= threshold else {
                    continue
                }
                lease.warned = true
                update(id) { $0.state = .leased(lease) }
                actions.append(.warnLeak(lease))
            }
        }
        var index = 0
        while index < idle.count {
            let id = idle[index]
            guard let connection = connections[id], case .idle(let since) = connection.state else {
                index += 1
                continue
            }
            let pastLifetime = isPastLifetime(id, now: now)
            let idleTooLong = settings.idleTimeout.map { now - since >= $0 } ?? false
            if pastLifetime || (idleTooLong && connections.count > settings.minSize) {
                idle.remove(at: index)
                connections[id] = nil
                actions.append(.closeConnection(id))
            } else {
                index += 1
            }
        }
        replenish(now: now, into: &actions)
        return actions
    }

    /// Refuses new requests, fails the waiting ones and closes idle connections; leased ones close on return.
    mutating func close(now: ContinuousClock.Instant) -> [Action] {
        let now = Moment(now)
        isClosing = true
        var actions: [Action] = waiting.removeAll().map { entry in
            holders[entry.id] = nil
            counters.waitTime += now - entry.enqueuedAt
            return .fail(entry.id, .closed)
        }
        for id in idle {
            connections[id] = nil
            actions.append(.closeConnection(id))
        }
        idle.removeAll()
        return actions
    }

    // MARK: State

    /// Closing, and every connection is gone (none leased, idle or opening).
    var isDrained: Bool { isClosing && connections.isEmpty }

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

    /// The earliest instant at which ``tick(now:)`` has something to do for the waiting requests.
    var nextDeadline: ContinuousClock.Instant? { waiting.first?.deadline.instant }

    // MARK: Private

    /// Holders of waiting requests; they become lease holders when served.
    private var holders: [RequestID: Holder] = [:]

    private var leaseHolders: [Holder] { leases.map(\.holder) }

    private func isPastLifetime(_ connection: ConnectionID, now: Moment) -> Bool {
        guard let lifetime = settings.maxLifetime, let openedAt = connections[connection]?.openedAt else {
            return false
        }
        return now - openedAt >= lifetime
    }

    /// Changes the entry of `connection`, if there is one, by copy and write-back. Not `connections[id]?.x = …`:
    /// the dictionary's modify accessor is a coroutine whose frame, for an entry this size, is allocated on the heap,
    /// which came to 17 allocations per lease and return (measured by make bench).
    private mutating func update(_ connection: ConnectionID, _ change: (inout Connection) -> Void) {
        guard var entry = connections[connection] else { return }
        change(&entry)
        connections.updateValue(entry, forKey: connection)
    }

    /// Gives `connection` to the first waiting request, or parks it idle.
    private mutating func makeAvailable(_ connection: ConnectionID, now: Moment) -> Action? {
        guard let next = waiting.popFirst() else {
            update(connection) { $0.state = .idle(since: now) }
            idle.append(connection)
            return nil
        }
        counters.waitTime += now - next.enqueuedAt
        let holder = holders.removeValue(forKey: next.id) ?? Holder(name: "unknown", callSite: "unknown")
        return lease(connection, to: next.id, holder: holder, now: now)
    }

    private mutating func lease(
        _ connection: ConnectionID,
        to request: RequestID,
        holder: Holder,
        now: Moment
    ) -> Action {
        let lease = Lease(connection: connection, request: request, holder: holder, started: now)
        update(connection) { $0.state = .leased(lease) }
        leasedCount += 1
        counters.peakLeased = max(counters.peakLeased, leasedCount)
        return .lease(connection, to: request)
    }

    /// Opens connections up to `minSize`, and for waiting requests up to `maxSize`, unless backing off after a failure.
    private mutating func replenish(now: Moment, into actions: inout [Action]) {
        guard !isClosing else { return }
        if let retryNotBefore, now < retryNotBefore { return }
        let wanted = max(settings.minSize - connections.count, waiting.count - openingCount)
        let room = settings.maxSize - connections.count
        for _ in 0..<max(0, min(wanted, room)) {
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
