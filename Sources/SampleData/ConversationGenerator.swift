/// Deterministic chat transcripts for tests and benchmarks: users with topics, sessions, alternating roles.
///
/// The same parameters always give the same messages, byte for byte, on every machine: a benchmark run next month
/// ingests exactly what it ingested today, and a failing test can be replayed from its seed. Messages come out user
/// by user and session by session, each session's `created_at` strictly increasing; they are produced lazily, so a
/// million of them cost no more memory than one.
public struct ConversationGenerator: Sequence, Sendable {
    /// Parameters the generator cannot honour.
    public struct InvalidParameter: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Most sessions in one data set (users × sessions per user): their message counts are planned up front.
    public static let maximumSessions = 1_000_000
    /// Most messages `init(seed:users:sessionsPerUser:totalMessages:)` splits, far beyond any useful file.
    public static let maximumMessages = 1_000_000_000_000

    public let seed: UInt64
    public let users: Int
    public let sessionsPerUser: Int
    /// Messages in each session, indexed by `user * sessionsPerUser + session`.
    private let sessionSizes: [Int]

    /// Sessions of a random length in `messagesPerSession` each.
    public init(seed: UInt64, users: Int, sessionsPerUser: Int, messagesPerSession: ClosedRange<Int>)
        throws(InvalidParameter)
    {
        try Self.check(users: users, sessionsPerUser: sessionsPerUser)
        guard messagesPerSession.lowerBound >= 0, messagesPerSession.upperBound <= 100_000 else {
            throw InvalidParameter(description: "messages per session must lie in 0...100000")
        }
        var random = SplitMix64(seed: seed, stream: 2)
        self.seed = seed
        self.users = users
        self.sessionsPerUser = sessionsPerUser
        sessionSizes = (0..<(users * sessionsPerUser)).map { _ in random.next(in: messagesPerSession) }
    }

    /// Exactly `totalMessages`, split unevenly (weights from 1 to 4) over the sessions, as real usage is.
    public init(seed: UInt64, users: Int, sessionsPerUser: Int, totalMessages: Int) throws(InvalidParameter) {
        try Self.check(users: users, sessionsPerUser: sessionsPerUser)
        guard (0...Self.maximumMessages).contains(totalMessages) else {
            throw InvalidParameter(description: "the number of messages must lie in 0...\(Self.maximumMessages)")
        }
        var random = SplitMix64(seed: seed, stream: 3)
        let sessions = users * sessionsPerUser
        let weights = (0..<sessions).map { _ in random.next(in: 25...100) }
        let weightSum = weights.reduce(0, +)
        // Integer apportionment: each session gets its floor share, and the few messages left over go one each to
        // consecutive sessions from a random start; floating point could round differently on other machines.
        var sizes = weights.map { totalMessages / weightSum * $0 + totalMessages % weightSum * $0 / weightSum }
        let leftOver = totalMessages - sizes.reduce(0, +)
        let start = random.next(below: sessions)
        for offset in 0..<leftOver { sizes[(start + offset) % sessions] += 1 }
        self.seed = seed
        self.users = users
        self.sessionsPerUser = sessionsPerUser
        sessionSizes = sizes
    }

    private static func check(users: Int, sessionsPerUser: Int) throws(InvalidParameter) {
        guard (1...SampleUser.maximumCount).contains(users) else {
            throw InvalidParameter(description: "the number of users must lie in 1...\(SampleUser.maximumCount)")
        }
        guard sessionsPerUser >= 1, sessionsPerUser <= maximumSessions / users else {
            throw InvalidParameter(
                description: "sessions per user must be at least 1, and users × sessions at most \(maximumSessions)")
        }
    }

    /// How many messages `messages()` yields.
    public var messageCount: Int { sessionSizes.reduce(0, +) }

    /// The user at `index` (0-based), with the topics and distinctive words their messages use.
    public func user(_ index: Int) -> SampleUser { SampleUser(index: index, seed: seed) }

    /// Messages in the session `session` (0-based) of user `user`.
    public func sessionSize(user: Int, session: Int) -> Int { sessionSizes[user * sessionsPerUser + session] }

    /// Every message, lazily, in a fixed order: user by user, session by session.
    public func messages() -> Messages { Messages(generator: self) }

    public func makeIterator() -> MessageIterator { MessageIterator(self) }

    /// The messages as a sequence; iterating twice gives the same messages twice.
    public struct Messages: Sequence, Sendable {
        let generator: ConversationGenerator

        public func makeIterator() -> MessageIterator { MessageIterator(generator) }
    }
}
