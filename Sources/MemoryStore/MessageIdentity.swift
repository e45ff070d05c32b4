import Conversation

/// What makes two messages the same (see ``MemoryMessage``), as the store's unique indexes define it, one index per
/// kind: `messages_source_identity`, `messages_said_identity`, `messages_line_identity`.
///
/// A kind never matches another: a message stored with an id and sent again without one is a second message.
/// The content takes part as the server's hash of it; here, where a batch is checked before it is sent, as the
/// content itself (``includesContent``).
enum MessageIdentity: Hashable {
    /// The source's id.
    case source(user: String, session: String, id: String)
    /// The time, the role and the content.
    case said(user: String, session: String, microseconds: Int64, role: Role)
    /// The position and the content.
    case line(user: String, session: String, position: Int)

    /// Whether two messages of this identity are the same only when their contents are also equal.
    var includesContent: Bool {
        switch self {
        case .source: false
        case .said, .line: true
        }
    }
}

extension MemoryMessage {
    var identity: MessageIdentity {
        if let sourceID { return .source(user: user, session: session, id: sourceID) }
        if let createdAt {
            return .said(user: user, session: session, microseconds: createdAt.postgresMicroseconds, role: role)
        }
        return .line(user: user, session: session, position: position)
    }

    /// Whether no message stored in this message's session can have its identity, given its ``orderKey`` (`key`) and
    /// the session's highest stored order key (nil: the session holds nothing). Such messages can be streamed in with COPY, which cannot skip a
    /// conflicting row.
    ///
    /// A stored message of equal identity has, for a `line` identity, the same key; for a `said` identity, the same
    /// time. So a key (or a time) above everything stored proves the message new. A `source` identity carries no
    /// order (the source may have re-sent the id with another time), so only an empty session proves it new.
    func isNew(orderKey key: [UInt8], inSessionUpTo lastStoredKey: [UInt8]?) -> Bool {
        guard let lastStoredKey else { return true }
        switch identity {
        case .source:
            return false
        case .said:
            return ConversationOrder.timePart(of: lastStoredKey).lexicographicallyPrecedes(
                ConversationOrder.timePart(of: key))
        case .line:
            return lastStoredKey.lexicographicallyPrecedes(key)
        }
    }
}
