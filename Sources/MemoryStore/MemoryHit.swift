import Foundation

/// One ranked search result: a message of the user's conversation.
public struct MemoryHit: Sendable, Equatable, Codable {
    /// A stored message a hit covers.
    public struct Message: Sendable, Equatable, Codable {
        /// The store's id of the message (`messages.id`).
        public var id: Int
        /// The source system's id of the message, when its record had one.
        public var sourceID: String?
        /// The message's place in its source (see ``MemoryMessage``).
        public var position: Int

        public init(id: Int, sourceID: String?, position: Int) {
            self.id = id
            self.sourceID = sourceID
            self.position = position
        }
    }

    /// 1-based place in the result.
    public var rank: Int
    /// The BM25 score of the hit for the query; higher is better.
    public var score: Double
    public var user: String
    public var session: String
    /// The messages the hit covers, in conversation order.
    public var messages: [Message]
    /// The messages' text, joined with "\n".
    public var content: String
    /// When the (latest) message was written; its ingest time when its record did not say.
    public var createdAt: Date?

    public init(
        rank: Int, score: Double, user: String, session: String, messages: [Message], content: String,
        createdAt: Date?
    ) {
        self.rank = rank
        self.score = score
        self.user = user
        self.session = session
        self.messages = messages
        self.content = content
        self.createdAt = createdAt
    }
}

extension Collection where Element == MemoryHit {
    /// The leading hits whose texts add up to at most `budgetChars` characters (code points, as PostgreSQL's
    /// `length()` counts them): cut before the first hit that would pass the budget, so no hit is cut in two.
    public func prefix(withinBudget budgetChars: Int) -> SubSequence {
        var characters = 0
        return prefix { hit in
            characters += hit.content.unicodeScalars.count
            return characters <= budgetChars
        }
    }
}
