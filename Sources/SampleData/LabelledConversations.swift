import Foundation

/// Conversations with facts planted in them, and the questions that ask for those facts: a labelled set for
/// measuring retrieval (`worker generate --labels`, `worker eval`).
///
/// The conversations are ``ConversationGenerator``'s; each fact replaces the text of one of the user's own messages
/// (never a session's opening, which carries the user's distinctive words), so the filler around it is as realistic
/// as the rest of the sample data. Questions are dealt to users in turn and cycle through ``PlantedFact``'s families;
/// a fact stated in several messages puts each in a different session, in time order, and its distractors (messages
/// that share the question's names without answering it) in sessions of their own. Everything comes from the
/// seed: the same parameters give the same messages and labels, byte for byte.
public struct LabelledConversations: Sendable {
    /// One question, its user, the exact texts of the messages that answer it, and its family.
    public struct Label: Sendable, Equatable, Codable {
        public var user: String
        public var query: String
        public var relevant: [String]
        public var category: String
    }

    public let messages: [GeneratedMessage]
    public let labels: [Label]

    public init(seed: UInt64, users: Int, sessionsPerUser: Int, totalMessages: Int, questions: Int)
        throws(ConversationGenerator.InvalidParameter)
    {
        let generator = try ConversationGenerator(
            seed: seed, users: users, sessionsPerUser: sessionsPerUser, totalMessages: totalMessages)
        let perUser = (questions + users - 1) / users
        guard questions >= 1, perUser <= FactWords.maximumFacts else {
            throw ConversationGenerator.InvalidParameter(
                description: "questions must lie in 1...\(FactWords.maximumFacts * users) for \(users) user(s) "
                    + "(at most \(FactWords.maximumFacts) per user)")
        }
        var messages = Array(generator)
        var labels: [Label] = []
        // Per user, the indexes of the messages a fact may replace, grouped by session in time order.
        var slots: [String: [[Int]]] = [:]
        var sessionOrder: [String: [String]] = [:]
        for (index, message) in messages.enumerated() where message.role == .user && message.position > 1 {
            if sessionOrder[message.user]?.last != message.session {
                sessionOrder[message.user, default: []].append(message.session)
                slots[message.user, default: []].append([])
            }
            slots[message.user, default: []][slots[message.user, default: []].count - 1].append(index)
        }
        for userIndex in 0..<users {
            let user = generator.user(userIndex)
            let count = min(perUser, questions - labels.count)
            guard count > 0 else { break }
            var random = SplitMix64(seed: seed, stream: 7, UInt64(userIndex))
            var words = FactWords(&random)
            var free = slots[user.id] ?? []
            for number in 0..<count {
                let family = PlantedFact.families[number % PlantedFact.families.count]
                let fact = family(&words, &random)
                // Sessions with room, a random few of them in time order, one per statement.
                let open = free.indices.filter { !free[$0].isEmpty }
                guard open.count >= fact.statements.count + fact.distractors.count else {
                    throw ConversationGenerator.InvalidParameter(
                        description: "\(user.id) has too few messages for \(count) questions: give more messages "
                            + "or sessions, or fewer questions")
                }
                var chosen: [Int] = []
                while chosen.count < fact.statements.count + fact.distractors.count {
                    let session = open[random.next(below: open.count)]
                    if !chosen.contains(session) { chosen.append(session) }
                }
                let statementSessions = chosen.prefix(fact.statements.count).sorted()
                for (text, session) in zip(
                    fact.statements + fact.distractors, statementSessions + chosen.dropFirst(fact.statements.count))
                {
                    let slot = random.next(below: free[session].count)
                    messages[free[session].remove(at: slot)].content = text
                }
                labels.append(
                    Label(
                        user: user.id, query: fact.question, relevant: fact.relevant.map { fact.statements[$0] },
                        category: fact.category))
            }
        }
        self.messages = messages
        self.labels = labels
    }

    /// The labels as JSON Lines: `{"category", "query", "relevant", "user"}`, keys sorted.
    public func writeLabels(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for label in labels {
            data.append(try encoder.encode(label))
            data.append(UInt8(ascii: "\n"))
        }
        try data.write(to: url)
    }
}
