import Foundation

/// Conversations with facts planted in them, and the questions that ask for those facts: a labelled set for
/// measuring retrieval (`worker generate --labels`, `worker eval`).
///
/// The conversations are ``ConversationGenerator``'s; each fact is added to the text of one of the user's own
/// messages (never a session's opening, which carries the user's distinctive words), before or after what the
/// message said, so the fact is said in passing in a turn as long as the others, as in real conversations. Questions
/// are dealt to users in turn and cycle through ``PlantedFact``'s families; a fact stated in several messages puts
/// each in a different session, in time order, and its distractors (messages that share the question's words without
/// answering it) anywhere in the user's sessions. Everything comes from the seed: the same parameters give the same messages
/// and labels, byte for byte.
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
        // Per user, the assistant's turns, where the facts' echoes go.
        var replies: [String: [Int]] = [:]
        for (index, message) in messages.enumerated() where message.role == .assistant {
            replies[message.user, default: []].append(index)
        }
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
            var freeReplies = replies[user.id] ?? []
            // Twice as many facts as questions where there is room: a conversation says more than anyone asks about,
            // and the facts nobody asks about share the asked ones' common words as much as the asked ones do.
            for number in 0..<min(count * 2, FactWords.maximumFacts) {
                let family = PlantedFact.families[number % PlantedFact.families.count]
                let fact = family(&words, &random)
                // Sessions with room, a random few of them in time order, one per statement; each distractor in any
                // session that still has room.
                let open = free.indices.filter { !free[$0].isEmpty }
                let room = free.reduce(0) { $0 + $1.count }
                guard open.count >= fact.statements.count, room >= fact.statements.count + fact.distractors.count
                else {
                    if number >= count { break }
                    throw ConversationGenerator.InvalidParameter(
                        description: "\(user.id) has too few messages for \(count) questions: give more messages "
                            + "or sessions, or fewer questions")
                }
                var statementSessions: [Int] = []
                while statementSessions.count < fact.statements.count {
                    let session = open[random.next(below: open.count)]
                    if !statementSessions.contains(session) { statementSessions.append(session) }
                }
                var said: [String] = []
                for (place, text) in (fact.statements + fact.distractors).enumerated() {
                    let session: Int
                    if place < fact.statements.count {
                        session = statementSessions.sorted()[place]
                    } else {
                        let withRoom = free.indices.filter { !free[$0].isEmpty }
                        session = withRoom[random.next(below: withRoom.count)]
                    }
                    let index = free[session].remove(at: random.next(below: free[session].count))
                    // Said in passing, within what the user was saying anyway, as facts are in real conversations:
                    // the message is as long as a real turn, and its other words are the user's usual ones.
                    let filler = messages[index].content
                    messages[index].content = random.chance(50) ? text + " " + filler : filler + " " + text
                    said.append(messages[index].content)
                }
                for echo in fact.echoes where !freeReplies.isEmpty {
                    let index = freeReplies.remove(at: random.next(below: freeReplies.count))
                    messages[index].content += " " + echo
                }
                guard number < count else { continue }
                labels.append(
                    Label(
                        user: user.id, query: fact.question, relevant: fact.relevant.map { said[$0] },
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
