extension PoolStateMachine {
    /// An instant as the state machine stores it: its offset from one fixed instant of the process.
    ///
    /// `ContinuousClock.Instant` is not `@frozen`, so every struct or enum that holds one is copied, compared and
    /// destroyed through runtime witness calls; on the lease path those were most of the state machine's time.
    /// `Duration` is frozen, so a moment is two words handled inline. Conversions are exact (both are integer
    /// attoseconds), so an instant comes back out as it went in.
    package struct Moment: Comparable, Sendable {
        private static let epoch = ContinuousClock.now

        private let offset: Duration

        package init(_ instant: ContinuousClock.Instant) {
            offset = Self.epoch.duration(to: instant)
        }

        private init(offset: Duration) {
            self.offset = offset
        }

        package var instant: ContinuousClock.Instant { Self.epoch.advanced(by: offset) }

        package static func < (lhs: Moment, rhs: Moment) -> Bool { lhs.offset < rhs.offset }

        package static func + (moment: Moment, duration: Duration) -> Moment {
            Moment(offset: moment.offset + duration)
        }

        package static func - (lhs: Moment, rhs: Moment) -> Duration { lhs.offset - rhs.offset }
    }
}
