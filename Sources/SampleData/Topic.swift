/// A subject users talk about, with the words that make its messages findable by full-text search.
///
/// Words are plain English nouns, verbs and adjectives, so PostgreSQL's `english` configuration stems them the way
/// it stems real conversations, and a search for "hiking" finds the hiking users.
public struct Topic: Sendable, Hashable {
    public var name: String
    public var nouns: [String] = []
    /// Base forms, as in "I want to {verb} the {noun}".
    public var verbs: [String] = []
    public var adjectives: [String] = []

    /// Every topic a user can be given, from `topics.txt` (compiled in), in its order.
    public static let all: [Topic] = parse(String(decoding: PackageResources.topics_txt, as: UTF8.self))

    /// `topics.txt`: a topic's name on a line of its own, then its lists, one a line, as `  nouns: a, b, c`.
    /// Blank lines and `#` lines are comments. A line of another form is skipped, which the tests would notice as a
    /// topic short of words.
    static func parse(_ text: String) -> [Topic] {
        var topics: [Topic] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard line.hasPrefix(" ") else {
                topics.append(Topic(name: String(line)))
                continue
            }
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, !topics.isEmpty else { continue }
            let words = parts[1].split(separator: ",").map { String($0.drop { $0 == " " }) }
            switch parts[0].drop(while: { $0 == " " }) {
            case "nouns": topics[topics.count - 1].nouns = words
            case "verbs": topics[topics.count - 1].verbs = words
            case "adjectives": topics[topics.count - 1].adjectives = words
            default: continue
            }
        }
        return topics
    }
}
