extension PoolStateMachine {
    /// Asks to be woken by `deadline`: an acquire timeout, a leak threshold, an idle or lifetime expiry, the end of a
    /// connect backoff, the drain time or the grace after cutting leases.
    ///
    /// The driver keeps one timer, not one per deadline: a timer per lease would cost a task per lease. Events only
    /// ever move the wake-up earlier, which is one comparison, and ``timerFired(now:)`` works out the next one from
    /// everything that is due. So the wake-up is never later than the earliest deadline; at worst it is earlier (the
    /// deadline it was set for went away, e.g. the waiter was served), which costs one wake-up that finds nothing due.
    mutating func wake(by deadline: Moment, into actions: inout [Action]) {
        if let wakeUpAt, wakeUpAt <= deadline { return }
        wakeUpAt = deadline
        actions.append(.scheduleWakeUp(at: deadline))
    }

    /// The wake-up came: time out waiters, warn about old leases, close expired idle connections, retry opening after
    /// a backoff, cut leases past the drain time, and say when to wake next.
    package mutating func timerFired(now instant: ContinuousClock.Instant) -> [Action] {
        let now = Moment(instant)
        wakeUpAt = nil
        guard !closing.isComplete else { return [] }
        var actions: [Action] = []
        timeOutWaiters(now: now, into: &actions)
        warnAboutOldLeases(now: now, into: &actions)
        closeExpiredIdleConnections(now: now, into: &actions)
        if isClosing {
            closingTimerFired(now: now, into: &actions)
        } else {
            replenish(now: now, into: &actions)
        }
        if !closing.isComplete, let next = nextDeadline(after: now) { wake(by: next, into: &actions) }
        return actions
    }

    private mutating func timeOutWaiters(now: Moment, into actions: inout [Action]) {
        while let first = waiting.first, first.deadline <= now {
            _ = waiting.popFirst()
            holders[first.id] = nil
            counters.timeouts += 1
            counters.waitTime += now - first.enqueuedAt
            actions.append(.fail(first.id, .timedOut(waiting: waiting.count, holders: leaseHolders)))
        }
    }

    private mutating func warnAboutOldLeases(now: Moment, into actions: inout [Action]) {
        guard let threshold = settings.leakThreshold else { return }
        for (id, connection) in connections {
            guard case .leased(var lease) = connection.state, !lease.warned, now - lease.started >= threshold else {
                continue
            }
            lease.warned = true
            update(id) { $0.state = .leased(lease) }
            actions.append(.warnLeak(lease))
        }
    }

    private mutating func closeExpiredIdleConnections(now: Moment, into actions: inout [Action]) {
        var index = 0
        while index < idle.count {
            let id = idle[index]
            guard let connection = connections[id], case .idle(let since) = connection.state else {
                index += 1
                continue
            }
            let idleTooLong = settings.idleTimeout.map { now - since >= $0 } ?? false
            if isPastLifetime(id, now: now) || (idleTooLong && connections.count > settings.minSize) {
                idle.remove(at: index)
                connections[id] = nil
                actions.append(.closeConnection(id))
            } else {
                index += 1
            }
        }
    }

    /// The earliest instant after `now` at which ``timerFired(now:)`` has something to do; nil if nothing ever will
    /// unless another event comes first.
    func nextDeadline(after now: Moment) -> Moment? {
        var next: Moment?
        func consider(_ deadline: Moment?) {
            guard let deadline, deadline > now else { return }
            if next.map({ deadline < $0 }) ?? true { next = deadline }
        }
        consider(waiting.first?.deadline)
        for connection in connections.values {
            switch connection.state {
            case .leased(let lease):
                if !lease.warned, !lease.cut, let threshold = settings.leakThreshold {
                    consider(lease.started + threshold)
                }
            case .idle(let since):
                if let lifetime = settings.maxLifetime, let openedAt = connection.openedAt {
                    consider(openedAt + lifetime)
                }
                if let idleTimeout = settings.idleTimeout, connections.count > settings.minSize {
                    consider(since + idleTimeout)
                }
            case .opening:
                break
            }
        }
        if !isClosing, connectionsWanted > 0 { consider(retryNotBefore) }
        consider(closing.nextDeadline(leased: leasedCount))
        return next
    }

    /// The instant the driver's timer should be set for: for tests.
    var scheduledWakeUp: ContinuousClock.Instant? { wakeUpAt?.instant }
}
