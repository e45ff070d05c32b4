import Conversation
import Foundation

/// One message of a conversation, as a batch hands it to ``MemoryStore/ingest(_:maxChunkChars:on:)``.
///
/// Storing the same message again is a duplicate, which is what makes re-running a batch harmless, however the input
/// was cut into files. What "the same" means depends on what the source says about the message:
/// - with a ``sourceID``: user, session and that id;
/// - else with ``createdAt``: user, session, `createdAt`, role and content;
/// - else (the last resort): user, session, ``position`` and content.
///
/// A session reads in conversation order: by `createdAt`, then `sourceID`, then `position` (see ``orderKey``).
///
/// The store takes the values as given: records are checked once, where they are read, with the file and line of each
/// (the worker's job reader), and the role is a ``Role``, valid by its type. What the database cannot hold is refused
/// with nothing stored (the batch is one transaction): text with NUL is never sent (the `Postgres` module refuses such
/// a parameter or COPY field), a negative or too large position breaks the column's type or CHECK constraint, and a
/// time the order key cannot hold is refused before anything is sent (``isStorable(_:)``).
public struct MemoryMessage: Sendable, Equatable {
    var user: String
    var session: String
    /// The message's own place in its source: its line's index in a JSON Lines file, counting blank and bad lines
    /// too, or its index in a job file's list. It orders messages of equal time and identifies messages that carry
    /// neither an id nor a time. At least 0, at most `Int32.max`.
    var position: Int
    var role: Role
    var content: String
    /// When the message was written; `nil` when the source does not say.
    var createdAt: Date?
    /// The source system's id for the message, unique within its user and session; `nil` when the source has none.
    var sourceID: String?

    public init(
        user: String, session: String, position: Int, role: Role, content: String, createdAt: Date? = nil,
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

    /// Whether `date` converts to the microseconds the order key and the `timestamptz` column hold: a NaN, infinite or
    /// far-off time would trap in that conversion.
    static func isStorable(_ date: Date) -> Bool {
        abs(date.timeIntervalSince1970) < Double(Int64.max) / 1_000_000
    }
}
