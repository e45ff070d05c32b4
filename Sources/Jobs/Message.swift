import Conversation
import Foundation

/// One message to store.
///
/// The store identifies a message by its `id` when the source gives one, else by its time, role and content, else by
/// its position and content (the README's "Exactly once"), so running the same ingest twice stores it once.
public struct Message: Sendable, Equatable, Codable {
    public var user: String
    public var session: String
    /// The message's own place in its source: the 0-based index of its line in a JSON Lines file, blank and bad
    /// lines counted, or of its entry in a job file's `messages:` list. It depends on nothing else in the file, so
    /// fixing a bad line or adding lines after it moves no other message.
    public var position: Int
    /// The source system's message id (`id`), unique within the user and session; nil when the record has none.
    public var id: String?
    public var role: Role
    public var content: String
    public var createdAt: Date?
    /// The line in the JSON Lines source or job file the message came from, for reports.
    public var line: Int

    public init(
        user: String, session: String, position: Int, id: String? = nil, role: Role, content: String,
        createdAt: Date? = nil, line: Int
    ) {
        self.user = user
        self.session = session
        self.position = position
        self.id = id
        self.role = role
        self.content = content
        self.createdAt = createdAt
        self.line = line
    }
}
