/// Who wrote a message, as chat transcripts label it: the one spelling job files, sample data and the store's
/// `messages.role` column share, so a role that reached the store was one of these when it was read.
public enum Role: String, Sendable, Codable, CaseIterable {
    case user
    case assistant
    case system
    case tool
}
