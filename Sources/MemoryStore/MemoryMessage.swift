import Foundation
import Postgres

/// One message of a conversation, as a batch hands it to ``MemoryStore/ingest(_:maxChunkChars:on:)``.
///
/// Storing the same message again is a duplicate, which is what makes re-running a batch harmless, however the input
/// was cut into files. What "the same" means depends on what the source says about the message:
/// - with a ``sourceID``: user, session and that id;
/// - else with ``createdAt``: user, session, `createdAt`, role and content;
/// - else (the last resort): user, session, ``position`` and content.
///
/// A session reads in conversation order: by `createdAt`, then `sourceID`, then `position` (see ``orderKey``).
public struct MemoryMessage: Sendable, Equatable {
    /// The roles the `messages.role` CHECK constraint accepts.
    public static let roles: Set<String> = ["system", "user", "assistant", "tool"]

    public var user: String
    public var session: String
    /// The message's own place in its source: its line's index in a JSON Lines file, counting blank and bad lines
    /// too, or its index in a job file's list. It orders messages of equal time and identifies messages that carry
    /// neither an id nor a time. At least 0, at most `Int32.max`.
    public var position: Int
    /// One of ``roles``.
    public var role: String
    public var content: String
    /// When the message was written; `nil` when the source does not say.
    public var createdAt: Date?
    /// The source system's id for the message, unique within its user and session; `nil` when the source has none.
    public var sourceID: String?

    public init(
        user: String, session: String, position: Int, role: String, content: String, createdAt: Date? = nil,
        sourceID: String? = nil
    ) {
        self.user = user
        self.session = session
        self.position = position
        self.role = role
        self.content = content
        self.createdAt = createdAt
        self.sourceID = sourceID
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
        if sourceID?.isEmpty == true { return "sourceID is empty" }
        if position < 0 || position > Int(Int32.max) { return "position \(position) is outside 0...\(Int32.max)" }
        if !Self.roles.contains(role) {
            return "role '\(role)' is not one of \(Self.roles.sorted().joined(separator: ", "))"
        }
        for (field, text) in [("user", user), ("session", session), ("content", content), ("sourceID", sourceID ?? "")]
        where Self.containsNUL(text) {
            return "\(field) contains a NUL character, which PostgreSQL text cannot hold"
        }
        if let createdAt, !createdAt.timeIntervalSince1970.isFinite { return "createdAt is not a finite time" }
        return nil
    }
}
