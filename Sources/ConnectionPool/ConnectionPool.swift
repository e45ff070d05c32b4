import Foundation
import Logging
import PoolConfiguration
import Postgres
import Support

/// A pool of connections to one database, never more than `maxSize` open, leased to one task at a time.
///
/// Every decision is ``PoolStateMachine``'s; this class only carries them out: it opens and closes connections, resumes
/// waiting tasks, checks connections on return, and sets the one timer the state machine asks for. The lock around the
/// state machine is never held across a suspension point or I/O.
///
/// Every task the pool starts (opening connections, the timer) is a child of its ``run(_:)``, started once with the
/// pool and ended by ``close(drain:grace:)``, which returns when it has. Leasing and returning start no task: they
/// run on the caller's.
public final class ConnectionPool: Sendable {
    /// A leased connection and the request it answered.
    private struct Leased: Sendable {
        var id: PoolStateMachine.ConnectionID
        var connection: PostgresConnection
        /// It sat idle long enough to be checked before use (``PoolSettings/idleCheckAfter``).
        var check: Bool
    }

    /// What the lock guards: the state machine plus the objects its ids stand for.
    private struct Core: Sendable {
        var machine: PoolStateMachine
        var connections: [PoolStateMachine.ConnectionID: PostgresConnection] = [:]
        /// Tasks waiting for a lease. Unsafe continuations, not checked ones, which cost an allocation per wait: each
        /// is resumed exactly once because it is removed from here, under the lock, by whoever resumes it.
        var waiters: [PoolStateMachine.RequestID: UnsafeContinuation<Leased, any Error>] = [:]
        /// Answers to requests whose task has not started waiting (yet): taken by ``request(_:)`` at once.
        var answers: [PoolStateMachine.RequestID: Result<Leased, any Error>] = [:]
        var nextRequestID = 1
        var lastConnectError: (any Error)?
        /// The connect failure last logged as a warning; the same one again goes to the debug log, so an outage
        /// costs one warning, not one per attempt. Cleared when a connection opens.
        var loggedConnectFailure: String?
        /// Every connection this pool opened, for the leak check: each must be closed once the pool is, and (on a
        /// direct connection) its server process gone. Closed ones keep only their small Swift object alive.
        var opened: [PostgresConnection] = []
        /// Counts timers set and cancelled: a timer whose number is no longer this one was replaced or cancelled.
        var timerGeneration = 0
        /// Resumed to stop the current timer before its deadline.
        var stopTimer: CheckedContinuation<Void, Never>?
        /// ``run(_:)`` has returned: the pool is closed and started tasks are all done.
        var runEnded = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Work decided under the lock and done after it is released.
    private enum Effect {
        case open(PoolStateMachine.ConnectionID)
        case close(PostgresConnection)
        case resume(UnsafeContinuation<Leased, any Error>, Result<Leased, any Error>)
        case warnLeak(PoolStateMachine.Lease, pid: Int32?)
        case startTimer(ContinuousClock.Instant, generation: Int)
        case stopTimer(CheckedContinuation<Void, Never>)
        case endRun
    }

    /// What ``run(_:)`` starts a child task for.
    private enum Event: Sendable {
        case open(PoolStateMachine.ConnectionID)
        case timer(ContinuousClock.Instant, generation: Int)
    }

    /// The database, as a masked URL.
    public let target: String
    public let settings: PoolSettings
    private let configuration: ConnectionConfiguration
    private let logger: Logger
    private let clock: any PoolClock
    private let core: Locked<Core>
    private let events: AsyncStream<Event>.Continuation

    /// Creates the pool and starts opening `minSize` connections in the background.
    public convenience init(
        configuration: ConnectionConfiguration,
        settings: PoolSettings,
        logger: Logger = Logger(label: "memory-worker.pool")
    ) {
        self.init(configuration: configuration, settings: settings, logger: logger, clock: ContinuousClock())
    }

    /// The same, with the clock its timers run on.
    package init(
        configuration: ConnectionConfiguration,
        settings: PoolSettings,
        logger: Logger = Logger(label: "memory-worker.pool"),
        clock: any PoolClock
    ) {
        self.configuration = configuration
        self.settings = settings
        self.logger = logger
        self.clock = clock
        target = configuration.maskedURL
        core = Locked(Core(machine: PoolStateMachine(settings: settings)))
        let (stream, events) = AsyncStream.makeStream(of: Event.self)
        self.events = events
        // The pool's one top-level task; close() waits for it to end.
        Task { await self.run(stream) }
        perform(core.withLock { core in apply(core.machine.start(now: clock.now), to: &core) })
    }

    // MARK: Running

    /// Starts a child task for each connection to open and each timer to set, until closing is complete; then
    /// returns once they have all ended.
    private func run(_ events: AsyncStream<Event>) async {
        await withDiscardingTaskGroup { group in
            for await event in events {
                switch event {
                case .open(let id):
                    group.addTask { await self.open(id) }
                case .timer(let deadline, let generation):
                    group.addTask { await self.runTimer(until: deadline, generation: generation) }
                }
            }
        }
        let waiters = core.withLock { core in
            core.runEnded = true
            defer { core.closeWaiters = [] }
            return core.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for `deadline` unless the timer is stopped first (replaced by an earlier one, or no longer needed).
    private func runTimer(until deadline: ContinuousClock.Instant, generation: Int) async {
        await withTaskGroup(of: Bool.self) { race in
            race.addTask { [clock] in (try? await clock.wait(until: deadline)) != nil }
            race.addTask {
                await self.waitForTimerStop(generation)
                return false
            }
            if await race.next() == true { timerFired(generation) }
            race.cancelAll()
        }
    }

    private func waitForTimerStop(_ generation: Int) async {
        await withCheckedContinuation { continuation in
            let stopped = core.withLock { core in
                guard core.timerGeneration == generation else { return true }
                core.stopTimer = continuation
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    private func timerFired(_ generation: Int) {
        let (stop, effects) = core.withLock { core -> (CheckedContinuation<Void, Never>?, [Effect]) in
            guard core.timerGeneration == generation else { return (nil, []) }
            // This timer is spent: its own stop is resumed here, and a timer the state machine sets now is a new one.
            core.timerGeneration += 1
            let stop = core.stopTimer
            core.stopTimer = nil
            return (stop, apply(core.machine.timerFired(now: clock.now), to: &core))
        }
        stop?.resume()
        perform(effects)
    }

    // MARK: Leasing

    /// Leases a connection for the duration of `body` and returns it afterwards, whatever `body` does.
    ///
    /// A transaction left open is rolled back on return (and counted as a bad return); a broken connection is closed
    /// and replaced. `holder` names the job and task for leak warnings and timeout errors.
    public func withConnection<Value>(
        holder: String = "unnamed",
        fileID: String = #fileID,
        line: Int = #line,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        let leased = try await lease(PoolStateMachine.Holder(name: holder, file: fileID, line: line))
        let result: Result<Value, any Error>
        do {
            result = .success(try await body(leased.connection))
        } catch {
            result = .failure(error)
        }
        await giveBack(leased)
        return try result.get()
    }

    /// Leases a connection that works: one found broken after it sat idle (a killed backend, a restarted server) is
    /// discarded and the request made again, so the caller never sees it.
    private func lease(_ holder: PoolStateMachine.Holder) async throws -> Leased {
        while true {
            let leased = try await request(holder)
            if !leased.check || leased.connection.isUsable { return leased }
            perform(
                core.withLock { core in
                    apply(core.machine.connectionReturned(leased.id, state: .broken, now: clock.now), to: &core)
                })
        }
    }

    private func request(_ holder: PoolStateMachine.Holder) async throws -> Leased {
        try Task.checkCancellation()
        // Asked under one lock, without a continuation or a cancellation handler: most leases find a connection idle.
        let (id, answer, effects) = core.withLock { core in
            let id = core.nextRequestID
            core.nextRequestID += 1
            let effects = apply(core.machine.requestLease(id, holder: holder, now: clock.now), to: &core)
            return (id, core.answers.removeValue(forKey: id), effects)
        }
        perform(effects)
        if let answer { return try answer.get() }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                // Answered between the two locks (a connection came back meanwhile): no need to wait.
                let answer = core.withLock { core -> Result<Leased, any Error>? in
                    if let answer = core.answers.removeValue(forKey: id) { return answer }
                    core.waiters[id] = continuation
                    return nil
                }
                if let answer { continuation.resume(with: answer) }
            }
        } onCancel: {
            perform(core.withLock { core in apply(core.machine.cancelRequest(id, now: clock.now), to: &core) })
        }
    }

    private func giveBack(_ leased: Leased) async {
        let state = await Self.returnState(of: leased.connection)
        perform(
            core.withLock { core in
                apply(core.machine.connectionReturned(leased.id, state: state, now: clock.now), to: &core)
            })
    }

    /// Whether a returned connection is clean, had to be rolled back, or is broken.
    ///
    /// A broken or closed connection reports `.unknown`, so no `isUsable` poll here: that is a system call per lease,
    /// and a backend that ends while its connection sits idle is found by the next lease's check anyway.
    private static func returnState(of connection: PostgresConnection) async -> PoolStateMachine.ReturnState {
        switch connection.transactionStatus {
        case .idle:
            return .clean
        case .inTransaction, .failed:
            // A task of its own, so the rollback runs even when the holder's task was cancelled.
            let rollback = Task { try await connection.execute(script: "ROLLBACK") }
            guard (try? await rollback.value) != nil, connection.transactionStatus == .idle else { return .broken }
            return .rolledBack
        case .active, .unknown:
            return .broken
        }
    }

    // MARK: Closing

    /// Refuses new leases, waits up to `drain` for leased connections to come back, then closes the connections
    /// still leased under their holders (whose statements fail with a lost connection) and gives the holders `grace`
    /// to give them back. Returns when the last connection is closed, or when the grace has run out (a lease not given
    /// back stays in the leak report), and every task the pool started has ended.
    public func close(drain: Duration = .seconds(30), grace: Duration = .seconds(1)) async {
        perform(
            core.withLock { core in
                apply(core.machine.close(now: clock.now, drain: drain, grace: grace), to: &core)
            })
        await withCheckedContinuation { continuation in
            let ended = core.withLock { core in
                if !core.runEnded { core.closeWaiters.append(continuation) }
                return core.runEnded
            }
            if ended { continuation.resume() }
        }
    }

    /// True once ``close(drain:grace:)`` has been called.
    public var isClosed: Bool { core.withLock { $0.machine.isClosing } }

    // MARK: Observing

    /// Settings and counters; `activeReferences` is filled in by ``GlobalConnectionManager``.
    public var statistics: PoolStatistics {
        core.withLock { core in
            let machine = core.machine
            let counters = machine.counters
            let gauges = machine.gauges
            return PoolStatistics(
                minSize: settings.minSize,
                maxSize: settings.maxSize,
                timeout: settings.acquireTimeout.seconds,
                recycle: settings.maxLifetime?.seconds ?? 0,
                activeReferences: 0,
                poolClosed: machine.isClosing,
                poolSize: gauges.size,
                poolAvailable: gauges.available,
                leased: gauges.leased,
                peakLeased: counters.peakLeased,
                requestsNum: counters.requests,
                requestsWaiting: gauges.waiting,
                requestsWaitMs: counters.waitTime.seconds * 1000,
                requestsTimeouts: counters.timeouts,
                usageMs: counters.usageTime.seconds * 1000,
                returnsBad: counters.badReturns,
                connectionsNum: counters.connectionsOpened,
                connectionsErrors: counters.connectionErrors,
                connectionsLost: counters.connectionsLost
            )
        }
    }

    /// Every connection this pool has opened, replacements included, so a leak check can see that each is closed
    /// and ask the server whether its process is still there, unconfused by other programs using the same
    /// `application_name`.
    public var openedConnections: [PostgresConnection] { core.withLock { $0.opened } }

    /// A lease still held: who holds it, from where, for how long, on which server process.
    public struct OutstandingLease: Sendable, Equatable {
        public var holder: String
        public var callSite: String
        public var heldFor: Duration
        public var backendPID: Int32?
    }

    /// The leases held now.
    public var outstandingLeases: [OutstandingLease] {
        let now = clock.now
        return core.withLock { core in
            core.machine.leases.map { lease in
                OutstandingLease(
                    holder: lease.holder.name,
                    callSite: lease.holder.callSite,
                    heldFor: now - lease.since,
                    backendPID: core.connections[lease.connection]?.backendPID
                )
            }
        }
    }

    // MARK: Carrying out decisions

    /// Translates the state machine's actions into effects, under the lock.
    private func apply(_ actions: [PoolStateMachine.Action], to core: inout Core) -> [Effect] {
        var effects: [Effect] = []
        effects.reserveCapacity(actions.count)
        for action in actions {
            switch action {
            case .openConnection(let id):
                effects.append(.open(id))
            case .closeConnection(let id):
                if let connection = core.connections.removeValue(forKey: id) { effects.append(.close(connection)) }
            case .lease(let id, let request, let check):
                guard let connection = core.connections[id] else { continue }
                answer(
                    request, with: .success(Leased(id: id, connection: connection, check: check)), in: &core,
                    into: &effects)
            case .fail(let request, let failure):
                let error = error(for: failure, lastConnectError: core.lastConnectError)
                answer(request, with: .failure(error), in: &core, into: &effects)
            case .warnLeak(let lease):
                effects.append(.warnLeak(lease, pid: core.connections[lease.connection]?.backendPID))
            case .cutConnection(let id):
                // Still leased: the entry stays, for the holder's return and the leak report's backend id.
                if let connection = core.connections[id] { effects.append(.close(connection)) }
            case .scheduleWakeUp(let moment):
                stopTimer(in: &core, into: &effects)
                effects.append(.startTimer(moment.instant, generation: core.timerGeneration))
            case .cancelWakeUp:
                stopTimer(in: &core, into: &effects)
            case .closed:
                effects.append(.endRun)
            }
        }
        return effects
    }

    /// Resumes the request's task, or leaves the answer for it if it is not waiting yet (see ``request(_:)``).
    private func answer(
        _ request: PoolStateMachine.RequestID,
        with result: Result<Leased, any Error>,
        in core: inout Core,
        into effects: inout [Effect]
    ) {
        if let continuation = core.waiters.removeValue(forKey: request) {
            effects.append(.resume(continuation, result))
        } else {
            core.answers[request] = result
        }
    }

    /// Replaces the current timer (a new one, or none).
    private func stopTimer(in core: inout Core, into effects: inout [Effect]) {
        core.timerGeneration += 1
        if let stop = core.stopTimer {
            core.stopTimer = nil
            effects.append(.stopTimer(stop))
        }
    }

    /// Does the I/O and resumptions the state machine asked for, outside the lock.
    private func perform(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .open(let id):
                events.yield(.open(id))
            case .close(let connection):
                connection.close()
            case .resume(let continuation, let result):
                continuation.resume(with: result)
            case .warnLeak(let lease, let pid):
                let age = (clock.now - lease.since).seconds
                logger.warning(
                    "possible connection leak: lease held for \(String(format: "%.1f", age)) s by \(lease.holder.name) at \(lease.holder.callSite)",
                    metadata: ["pool": "\(target)", "backend_pid": "\(pid.map(String.init) ?? "?")"]
                )
            case .startTimer(let deadline, let generation):
                events.yield(.timer(deadline, generation: generation))
            case .stopTimer(let stop):
                stop.resume()
            case .endRun:
                events.finish()
            }
        }
    }

    /// Opens a connection, the first ones and every replacement alike, and records its backend for the leak check.
    private func open(_ id: PoolStateMachine.ConnectionID) async {
        do {
            let connection = try await PostgresConnection.connect(configuration, logger: logger)
            recordOpened(connection)
            perform(
                core.withLock { core in
                    core.connections[id] = connection
                    core.loggedConnectFailure = nil
                    return apply(core.machine.connectionOpened(id, now: clock.now), to: &core)
                })
        } catch {
            let message = "\(error)"
            let (effects, repeated) = core.withLock { core in
                let repeated = core.loggedConnectFailure == message
                core.loggedConnectFailure = message
                core.lastConnectError = error
                return (apply(core.machine.connectionFailed(id, now: clock.now), to: &core), repeated)
            }
            logger.log(
                level: repeated ? .debug : .warning, "cannot open a connection: \(message)",
                metadata: ["pool": "\(target)"])
            perform(effects)
        }
    }

    /// Adds a connection to those the leak check looks at once the pool has closed: every connection this pool
    /// opens is recorded here before anyone can lease it.
    func recordOpened(_ connection: PostgresConnection) {
        core.withLock { $0.opened.append(connection) }
    }

    private func error(for failure: PoolStateMachine.Failure, lastConnectError: (any Error)?) -> any Error {
        switch failure {
        case .cancelled:
            return CancellationError()
        case .closed:
            return PoolError(kind: .closed, message: "pool \(target) is closed: no new leases", underlying: nil)
        case .connectFailed:
            let reason = lastConnectError.map { "\($0)" } ?? "unknown error"
            return PoolError(
                kind: .connectFailed,
                message: "pool \(target) cannot open a connection: \(reason)",
                underlying: lastConnectError
            )
        case .timedOut(let waiting, let holders):
            let held = Dictionary(grouping: holders, by: { "\($0.name) at \($0.callSite)" })
                .map { $0.value.count > 1 ? "\($0.key) (×\($0.value.count))" : $0.key }
                .sorted()
                .joined(separator: "; ")
            return PoolError(
                kind: .timedOut,
                message: "no connection from pool \(target) within \(settings.acquireTimeout.seconds) s "
                    + "(pool_timeout): all \(holders.count) of max_size \(settings.maxSize) are leased, "
                    + "\(waiting) more request(s) waiting; held by: \(held.isEmpty ? "nobody" : held)",
                underlying: nil
            )
        }
    }
}
