import Foundation

/// One message of a conversation, as a batch hands it to ``MemoryStore/ingest(_:maxChunkChars:on:)``.
///
/// A message's identity is (user, session, position, content): storing the same message again is a duplicate, which
/// is what makes re-running a batch harmless. Two different contents at one position are two messages.
public struct MemoryMessage: Sendable, Equatable {
    /// The roles the `messages.role` CHECK constraint accepts.
    public static let roles: Set<String> = ["system", "user", "assistant", "tool"]

    public var user: String
    public var session: String
    /// The message's place in its session; chunks follow position order. At least 0, at most `Int32.max`.
    public var position: Int
    /// One of ``roles``.
    public var role: String
    public var content: String
    /// When the message was written; `nil` when the source does not say.
    public var createdAt: Date?

    public init(user: String, session: String, position: Int, role: String, content: String, createdAt: Date? = nil) {
        self.user = user
        self.session = session
        self.position = position
        self.role = role
        self.content = content
        self.createdAt = createdAt
    }

    /// With memchr over the string's bytes when they are contiguous (native strings): this runs for every message
    /// ingested, and a byte-by-byte walk of the UTF-8 view costs several times more.
    private static func containsNUL(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        } ?? text.utf8.contains(0)
    }

    /// Why the database would refuse this message, or `nil` if it is storable; checked before anything is sent so
    /// the error names the message rather than an array parameter.
    var problem: String? {
        if user.isEmpty { return "user is empty" }
        if session.isEmpty { return "session is empty" }
        if position < 0 || position > Int(Int32.max) { return "position \(position) is outside 0...\(Int32.max)" }
        if !Self.roles.contains(role) {
            return "role '\(role)' is not one of \(Self.roles.sorted().joined(separator: ", "))"
        }
        for (field, text) in [("user", user), ("session", session), ("content", content)]
        where Self.containsNUL(text) {
            return "\(field) contains a NUL character, which PostgreSQL text cannot hold"
        }
        if let createdAt, !createdAt.timeIntervalSince1970.isFinite { return "createdAt is not a finite time" }
        return nil
    }
}
