import Foundation

/// Who wrote a message, as chat transcripts label it.
public enum Role: String, Sendable, Codable, CaseIterable {
    case user
    case assistant
    case system
    case tool
}

/// One message to store.
///
/// `user`, `session` and `position` together identify the message, so running the same ingest twice stores it once.
public struct Message: Sendable, Equatable {
    public var user: String
    public var session: String
    /// The 0-based ordinal of the message within its (user, session), counted in source order over the good
    /// records only; the same input always gives the same positions.
    public var position: Int
    public var role: Role
    public var content: String
    public var createdAt: Date?
    /// The line in the JSON Lines source or job file the message came from, for reports.
    public var line: Int

    public init(
        user: String, session: String, position: Int, role: Role, content: String, createdAt: Date? = nil,
        line: Int
    ) {
        self.user = user
        self.session = session
        self.position = position
        self.role = role
        self.content = content
        self.createdAt = createdAt
        self.line = line
    }
}
