import Foundation
import MemoryStore
import SampleData

/// The queries of item 5, built from what the generated users talk about, and the same workload as a pgbench script.
///
/// Each user's words are their two invented names (found only in their own messages) and the nouns of their two
/// topics, padded by repetition to one length so pgbench can index them as one flat array. A query is one such word
/// (some nouns are two words) of a uniformly chosen user; the worker's queries and pgbench's draw from the same
/// distribution, so their rates compare.
struct QueryWorkload: Sendable {
    let users: [String]
    /// `words[u]` has `wordsPerUser` entries.
    let words: [[String]]
    let wordsPerUser: Int

    init(_ generator: ConversationGenerator) {
        var users: [String] = []
        var lists: [[String]] = []
        for index in 0..<generator.users {
            let user = generator.user(index)
            users.append(user.id)
            lists.append(user.distinctiveWords + user.primaryTopic.nouns + user.secondaryTopic.nouns)
        }
        let length = lists.map(\.count).max() ?? 0
        self.users = users
        words = lists.map { list in (0..<length).map { list[$0 % list.count] } }
        wordsPerUser = length
    }

    /// `count` queries as JSON Lines `{"user": ..., "query": ...}`, the query job's source format; fixed by the seed.
    func writeQueries(count: Int, to url: URL) throws {
        struct Line: Encodable {
            var user: String
            var query: String
        }
        var random = SplitMix64(seed: 1, stream: 0xB3)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var data = Data()
        for _ in 0..<count {
            let user = random.next(below: users.count)
            let word = random.next(below: wordsPerUser)
            data.append(try encoder.encode(Line(user: users[user], query: words[user][word])))
            data.append(UInt8(ascii: "\n"))
        }
        try data.write(to: url)
    }

    /// A pgbench script running the worker's own search statement with a random user and one of their words, after the
    /// settings the worker gives it, in one pipeline as the worker sends them.
    ///
    /// pgbench variables are numbers, so the user and the word are picked by index from array literals:
    /// `$1::text` becomes `(ARRAY[users])[:u]` and `$2::text` `(ARRAY[words])[:i]`, wherever the statement uses them.
    /// In prepared mode they are bound parameters like the worker's, and a custom plan folds the subscript to the same
    /// constant the worker binds.
    func pgbenchScript(searchSQL: String, topK: Int, ranking: Ranking) throws -> String {
        let placeholders = ["$1::text", "$2::text", "$3::int8", "$4::float8", "$5::float8"]
        for placeholder in placeholders where !searchSQL.contains(placeholder) {
            throw BenchError("the search SQL no longer uses \(placeholder); update QueryWorkload")
        }
        let userArray = "(ARRAY[\(users.map(Self.literal).joined(separator: ","))]::text[])[:u]"
        let wordArray = "(ARRAY[\(words.joined().map(Self.literal).joined(separator: ","))]::text[])[:i]"
        let sql =
            searchSQL
            .replacingOccurrences(of: "$1::text", with: userArray)
            .replacingOccurrences(of: "$2::text", with: wordArray)
            .replacingOccurrences(of: "$3::int8", with: "(:k)::int8")
            .replacingOccurrences(of: "$4::float8", with: "\(ranking.k1)::float8")
            .replacingOccurrences(of: "$5::float8", with: "\(ranking.b)::float8")
        guard sql.firstMatch(of: /\$[0-9]/) == nil else {
            throw BenchError("the search SQL has a parameter QueryWorkload does not fill; update QueryWorkload")
        }
        let settings = MemoryStore.searchSettings.map {
            "set_config(\(Self.literal($0.key)), \(Self.literal($0.value)), true)"
        }
        return """
            \\set u random(1, \(users.count))
            \\set i (:u - 1) * \(wordsPerUser) + random(1, \(wordsPerUser))
            \\set k \(topK)
            \\startpipeline
            SELECT \(settings.joined(separator: ", "));
            \(sql);
            \\endpipeline

            """
    }

    private static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
