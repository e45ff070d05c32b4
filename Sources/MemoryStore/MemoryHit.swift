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
}
