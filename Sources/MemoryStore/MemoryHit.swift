import Foundation

/// One ranked search result: a chunk of the user's conversation.
public struct MemoryHit: Sendable, Equatable, Codable {
    /// 1-based place in the result.
    public var rank: Int
    /// `ts_rank_cd` of the chunk for the query; higher is better.
    public var score: Double
    public var chunkID: Int
    public var session: String
    /// The chunk's messages joined with "\n".
    public var content: String
    /// The latest message time in the chunk (the ingest time when its messages carry none).
    public var createdAt: Date?
}
