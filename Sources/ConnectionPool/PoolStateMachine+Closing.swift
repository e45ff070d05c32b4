extension PoolStateMachine {
    /// How far closing has got: refusing leases and waiting for leased connections (until the drain deadline), then
    /// with those leases cut and their holders given a grace to return them (until the grace deadline), then complete.
    struct Closing {
        /// When leased connections are cut under their holders; the earliest of every ``close(now:drain:grace:)``.
        var drainDeadline: Moment?
        /// How long holders get to give back a cut connection before closing completes without it.
        var grace: Duration = .zero
        /// Set when leases were cut.
        var graceDeadline: Moment?
        /// ``Action/closed`` was sent.
        var isComplete = false

        /// The next instant at which closing moves on by itself.
        func nextDeadline(leased: Int) -> Moment? {
            guard !isComplete, leased > 0 else { return nil }
            return graceDeadline ?? drainDeadline
        }
    }

    /// Refuses new requests, fails the waiting ones and closes idle connections; leased ones close on return, or are
    /// cut under their holders after `drain`. Closing completes (``Action/closed``) when the last connection is closed,
    /// or `grace` after the cut if a holder never gives its lease back (it stays in the leak report).
    ///
    /// Called again (say with a shorter drain to force it), the earlier drain deadline wins.
    mutating func close(now instant: ContinuousClock.Instant, drain: Duration, grace: Duration) -> [Action] {
        let now = Moment(instant)
        guard !closing.isComplete else { return [] }
        var actions: [Action] = []
        if !isClosing {
            isClosing = true
            closing.grace = grace
            actions = waiting.removeAll().map { entry in
                holders[entry.id] = nil
                counters.waitTime += now - entry.enqueuedAt
                return .fail(entry.id, .closed)
            }
            for id in idle {
                connections[id] = nil
                actions.append(.closeConnection(id))
            }
            idle.removeAll()
        }
        let deadline = now + drain
        if closing.drainDeadline.map({ deadline < $0 }) ?? true { closing.drainDeadline = deadline }
        closingTimerFired(now: now, into: &actions)
        if let next = closing.nextDeadline(leased: leasedCount), !closing.isComplete { wake(by: next, into: &actions) }
        return actions
    }

    /// Cuts the leases if the drain deadline has come, and completes closing if nothing is left to wait for.
    mutating func closingTimerFired(now: Moment, into actions: inout [Action]) {
        if closing.graceDeadline == nil, let drainDeadline = closing.drainDeadline, drainDeadline <= now,
            leasedCount > 0
        {
            for (id, connection) in connections {
                guard case .leased(var lease) = connection.state else { continue }
                lease.cut = true
                update(id) { $0.state = .leased(lease) }
                actions.append(.cutConnection(id))
            }
            closing.graceDeadline = now + closing.grace
        }
        finishClosingIfDone(now: now, into: &actions)
    }

    /// Sends ``Action/closed`` once nothing is opening and no lease is out, or the grace after the cut has run out.
    mutating func finishClosingIfDone(now: Moment, into actions: inout [Action]) {
        guard isClosing, !closing.isComplete, openingCount == 0 else { return }
        if leasedCount > 0 {
            guard let graceDeadline = closing.graceDeadline, graceDeadline <= now else { return }
        }
        closing.isComplete = true
        actions.append(.closed)
        if wakeUpAt != nil {
            wakeUpAt = nil
            actions.append(.cancelWakeUp)
        }
    }

    /// Closing is complete.
    var isClosed: Bool { closing.isComplete }
}
