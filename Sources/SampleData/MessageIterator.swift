/// Walks the sessions of a ``ConversationGenerator`` and writes their messages one at a time.
///
/// Each user and each session draws from a random stream of its own, derived from the seed and its indices, so a
/// session's text does not depend on how long the sessions before it were.
public struct MessageIterator: IteratorProtocol, Sendable {
    /// 2024-01-01T00:00:00Z: a fixed epoch, not "now", so the timestamps are as reproducible as the text.
    static let epoch: Int64 = 1_704_067_200

    private let generator: ConversationGenerator
    private var userIndex = -1
    private var sessionIndex = 0
    private var user: SampleUser?
    /// Times sessions of the current user: each starts after the previous one ended.
    private var userRandom = SplitMix64(seed: 0)
    private var sessionRandom = SplitMix64(seed: 0)
    private var text: MessageText?
    private var sessionID = ""
    private var position = 0
    private var remaining = 0
    private var previousRole: GeneratedMessage.Role?
    private var clock: Int64 = 0

    init(_ generator: ConversationGenerator) {
        self.generator = generator
    }

    public mutating func next() -> GeneratedMessage? {
        while remaining == 0 {
            guard advanceSession() else { return nil }
        }
        guard let user, let text else { return nil }
        let role = nextRole()
        clock += gap(before: role)
        let content: String
        switch role {
        case .user where previousRole == nil || previousRole == .system: content = text.opening(&sessionRandom)
        case .user: content = text.userMessage(&sessionRandom)
        case .assistant: content = text.assistantMessage(&sessionRandom)
        case .tool: content = text.toolMessage(&sessionRandom)
        case .system: content = text.systemMessage(&sessionRandom)
        }
        let message = GeneratedMessage(
            user: user.id, session: sessionID, position: position, role: role, content: content, timestamp: clock)
        previousRole = role
        position += 1
        remaining -= 1
        return message
    }

    /// Moves to the next session (and user when the current one has no more); false after the last.
    private mutating func advanceSession() -> Bool {
        if userIndex >= 0, sessionIndex + 1 < generator.sessionsPerUser {
            sessionIndex += 1
        } else {
            guard userIndex + 1 < generator.users else { return false }
            userIndex += 1
            sessionIndex = 0
            let user = generator.user(userIndex)
            self.user = user
            userRandom = SplitMix64(seed: generator.seed, stream: 4, UInt64(userIndex))
            clock = Self.epoch + Int64(userRandom.next(below: 30 * 86_400))
        }
        guard let user else { return false }
        sessionRandom = SplitMix64(seed: generator.seed, stream: 5, UInt64(userIndex), UInt64(sessionIndex))
        // Sessions are hours to days apart, as people come back to a chat.
        clock += Int64(userRandom.next(in: 6 * 3600...3 * 86_400))
        let topic = sessionRandom.chance(75) ? user.primaryTopic : user.secondaryTopic
        text = MessageText(user: user, topic: topic)
        sessionID = user.id + "-session-" + Self.padded(sessionIndex + 1)
        position = 0
        remaining = generator.sessionSize(user: userIndex, session: sessionIndex)
        previousRole = nil
        return true
    }

    /// User and assistant alternate; some sessions open with a system prompt, and some answers call a tool first.
    /// A system prompt needs three messages, so every non-empty session has a user message (carrying a distinctive
    /// word) in its first two.
    private mutating func nextRole() -> GeneratedMessage.Role {
        switch previousRole {
        case nil: return remaining >= 3 && sessionRandom.chance(15) ? .system : .user
        case .system?: return .user
        case .assistant?: return remaining >= 2 && sessionRandom.chance(8) ? .tool : .user
        case .user?, .tool?: return .assistant
        }
    }

    /// Seconds since the previous message: people think, assistants answer fast, tools faster. Always positive, so
    /// `created_at` strictly increases within a session.
    private mutating func gap(before role: GeneratedMessage.Role) -> Int64 {
        guard previousRole != nil else { return 0 }
        switch role {
        case .user: return Int64(sessionRandom.next(in: 20...1800))
        case .assistant: return Int64(sessionRandom.next(in: 2...60))
        case .tool, .system: return Int64(sessionRandom.next(in: 1...5))
        }
    }

    private static func padded(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
