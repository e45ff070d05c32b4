import Foundation
import Postgres
import Testing

@testable import MemoryStore

/// The search reads only the candidates that can reach the top K and counts tokens with `ts_rank`; its hits must still
/// be the top K of every message scored in full, by the textbook formula, for any number of terms, any K and any
/// constants.
@Suite struct TopKTests {
    /// Words of skewed frequency (the first ones common, the last ones rare), so a query's terms have unlike weights
    /// and many messages hold some of them, few all.
    private static let words = [
        "apple", "river", "stone", "cloud", "piano", "tiger", "lemon", "candle", "forest", "garden", "rocket", "silver",
    ]

    /// 600 messages of user "u" in 3 sessions, 1 to 14 words each; sessions s0 and s1 say the same things at the same
    /// times (exact ties, which go to the higher id). One message says "apple" 300 times (a vector keeps 255
    /// positions), one is 3,000 words long, each word is said alone 1 to 34 times, and "garden" is said among other
    /// words in messages on the edges of the share classes. User "v" says the rare words often, which must change
    /// nothing for "u".
    private static let messages: [MemoryMessage] = {
        var generator = SplitMix64(seed: 7)
        func word() -> String {
            let draw = Int(generator.next() % 78)  // 12 + 11 + ... + 1: word i drawn 12 − i times in 78
            var index = 0
            var bound = 12
            while draw >= bound {
                index += 1
                bound += 12 - index
            }
            return words[index]
        }
        var messages: [MemoryMessage] = []
        for position in 0..<300 {
            let content = (0...(Int(generator.next() % 14))).map { _ in word() }.joined(separator: " ")
            let time = Fixtures.start.addingTimeInterval(Double(position))
            for session in ["s0", "s1"] {
                messages.append(
                    MemoryMessage(
                        user: "u", session: session, position: position, role: .user, content: content,
                        createdAt: time))
            }
        }
        let long = [
            Array(repeating: "apple", count: 300).joined(separator: " ") + " river",
            (0..<3000).map { _ in word() }.joined(separator: " "),
        ]
        for (position, content) in long.enumerated() {
            messages.append(
                MemoryMessage(
                    user: "u", session: "s2", position: position, role: .assistant, content: content,
                    createdAt: Fixtures.start.addingTimeInterval(Double(400 + position))))
        }
        // A word said alone, more and more often, scores closer and closer to the most the word can add: what the
        // search's pruning bounds a message by.
        for (index, word) in words.enumerated() {
            for (step, count) in [1, 2, 3, 5, 8, 13, 21, 34].enumerated() {
                messages.append(
                    MemoryMessage(
                        user: "u", session: "s3", position: index * 8 + step, role: .user,
                        content: Array(repeating: word, count: count).joined(separator: " "),
                        createdAt: Fixtures.start.addingTimeInterval(Double(500 + index * 8 + step))))
            }
        }
        // A word said r times among s other words: length over the word's count lands on each share class's lower
        // bound (4 · (r + s) / r, in quarters), so the class's ceiling is what such a message nearly scores.
        let fillers = (0..<64).map { "x\($0)" }
        for (index, floor) in Migrations.shareClassBounds.prefix(12).enumerated() {
            for repeats in [8, 24, 40] where (floor - 4) * repeats / 4 <= fillers.count {
                let others = (floor - 4) * repeats / 4
                messages.append(
                    MemoryMessage(
                        user: "u", session: "s4", position: index * 3 + repeats / 16, role: .user,
                        content: (Array(repeating: "garden", count: repeats) + fillers.prefix(others))
                            .joined(separator: " "),
                        createdAt: Fixtures.start.addingTimeInterval(Double(700 + index * 3 + repeats / 16))))
            }
        }
        for position in 0..<50 {
            messages.append(
                MemoryMessage(
                    user: "v", session: "s0", position: position, role: .user,
                    content: words.suffix(4).shuffled(using: &generator).joined(separator: " "),
                    createdAt: Fixtures.start.addingTimeInterval(Double(position))))
        }
        return messages
    }()

    /// One to all twelve words (the written-out scoring takes up to ``Searcher/writtenOutTerms``), common and rare; a
    /// common and a rare word put the rare word said alone just above or below what the messages holding both reach.
    private static let queries = [
        "apple", "silver", "garden", "garden silver", "apples and rivers", "stone cloud", "apple rocket",
        "stone garden", "cloud silver",
        "apple river stone", "rocket silver garden",
        "tiger lemon candle forest garden", words.prefix(8).joined(separator: " "),
        words.suffix(9).joined(separator: " "), words.joined(separator: " "),
    ]

    /// A message as the textbook score needs it: its lexemes' occurrences, as PostgreSQL parsed it.
    private struct Scored {
        var id: Int
        var createdAt: Date
        var counts: [String: Int]
    }

    /// What orders the hits: score, then time, then id.
    private static func key(_ hit: MemoryHit) -> (Double, Date, Int) {
        (hit.score, hit.createdAt ?? .distantPast, hit.messages.first?.id ?? 0)
    }

    @Test(arguments: [Ranking(), Ranking(k1: 2, b: 0.3), Ranking(k1: 0, b: 1), Ranking(k1: 1.2, b: 0)])
    func theHitsAreTheTopKOfEveryMessageScored(ranking: Ranking) async throws {
        try await TestDatabase.withStore(ranking: ranking) { store, connection in
            try await store.ingest(Self.messages, maxChunkChars: 300, on: connection)
            let schema = "\"\(store.schema)\""
            var messages: [Int: Scored] = [:]
            for row in try await connection.query(
                """
                SELECT m.id, m.created_at, v.lexeme, coalesce(cardinality(v.positions), 1)
                FROM \(schema).messages AS m CROSS JOIN unnest(m.tsv) AS v
                WHERE m.user_id = 'u'
                """
            ).rows {
                let (id, createdAt, lexeme, count) = try row.decode((Int, Date, String, Int).self)
                messages[id, default: Scored(id: id, createdAt: createdAt, counts: [:])].counts[lexeme] = count
            }
            #expect(messages.values.contains { $0.counts["appl"] == 255 })
            let lengths = messages.mapValues { Double($0.counts.values.reduce(0, +)) }
            let average = lengths.values.reduce(0, +) / Double(messages.count)
            let documentFrequencies = messages.values.reduce(into: [String: Double]()) { frequencies, message in
                for lexeme in message.counts.keys { frequencies[lexeme, default: 0] += 1 }
            }
            for query in Self.queries {
                let terms = try await connection.query(
                    "SELECT tsvector_to_array(to_tsvector('english', $1::text))::text[]", [query]
                ).rows[0].decode(0, as: TextArray.self).elements.compactMap { $0 }
                func score(_ message: Scored) -> Double? {
                    let length = lengths[message.id] ?? 0
                    let weights: [Double] = terms.compactMap { term in
                        guard let count = message.counts[term] else { return nil }
                        let tf = Double(count)
                        let df = documentFrequencies[term] ?? 0
                        let idf: Double = log(1 + (Double(messages.count) - df + 0.5) / (df + 0.5))
                        let norm: Double = ranking.k1 * (1 - ranking.b + ranking.b * length / average)
                        return idf * tf * (ranking.k1 + 1) / (tf + norm)
                    }
                    return weights.isEmpty ? nil : weights.reduce(0, +)
                }
                let all = messages.values.compactMap { message in score(message).map { (message, $0) } }
                for topK in [1, 2, 3, 5, 10, 1000] {
                    let hits = try await store.search(user: "u", query: query, topK: topK, on: connection)
                    let context = "\(query), top \(topK)"
                    #expect(hits.count == min(topK, all.count), "\(context)")
                    let returned = Set(hits.compactMap { $0.messages.first?.id })
                    for hit in hits {
                        let id = hit.messages.first?.id ?? 0
                        let want = messages[id].flatMap(score) ?? .nan
                        #expect(abs(hit.score - want) <= 1e-9 * want, "\(context): \(hit.content.prefix(40))")
                    }
                    let keys = hits.map(Self.key)
                    #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 > $1 }, "\(context)")
                    // Nothing left out ranks before the last hit: a lower score, or the same one and older (or as old
                    // and a lower id).
                    guard let last = hits.last, let lastID = last.messages.first?.id,
                        let lastTime = last.createdAt
                    else { continue }
                    for (message, score) in all where !returned.contains(message.id) {
                        let tied = abs(score - last.score) <= 1e-9 * last.score
                        #expect(
                            tied ? (message.createdAt, message.id) < (lastTime, lastID) : score < last.score,
                            "\(context): message \(message.id) scores \(score), the last hit \(last.score)")
                    }
                }
            }
        }
    }
}

extension TopKTests {
    /// What the search prunes by: no term weighs more in a message than its share class's ceiling. The "garden"
    /// messages sit on their classes' lower bounds with the word said 8 to 40 times, so their weights come within a
    /// few percent of the ceiling: a ceiling computed from a bound a tenth too high, or a message filed a class too
    /// far, puts some weight above it.
    @Test(arguments: [Ranking(), Ranking(k1: 2, b: 0.3), Ranking(k1: 0, b: 1), Ranking(k1: 1.2, b: 0)])
    func noWeightExceedsItsClasssCeiling(ranking: Ranking) async throws {
        try await TestDatabase.withStore(ranking: ranking) { store, connection in
            try await store.ingest(Self.messages, maxChunkChars: 300, on: connection)
            let schema = "\"\(store.schema)\""
            let rows = try await connection.query(
                """
                WITH c AS (
                    SELECT $1::float8 AS k1, $2::float8 AS b, u.token_count::float8 / u.document_count AS average_length
                    FROM \(schema).user_statistics AS u WHERE u.user_id = 'u'
                ), shaped AS (
                    SELECT m.id, m.tsv, ascii(split_part((tsvector_to_array(\(schema).search_keys(m.user_id, m.tsv)))[1],
                                                         chr(1), 2)) - 64 AS class,
                           (SELECT sum(cardinality(v.positions)) FROM unnest(m.tsv) AS v) AS length
                    FROM \(schema).messages AS m WHERE m.user_id = 'u'
                )
                SELECT max(w.weight / w.ceiling), count(*) FILTER (WHERE w.weight > w.ceiling * (1 + 1e-12)),
                       count(DISTINCT s.class)
                FROM shaped AS s CROSS JOIN c CROSS JOIN unnest(s.tsv) AS v
                CROSS JOIN LATERAL (
                    SELECT cardinality(v.positions) * (c.k1 + 1)
                               / (cardinality(v.positions) + c.k1 * (1 - c.b + c.b * s.length / c.average_length)) AS weight,
                           \(Searcher.classCeiling(floor: "(\(Migrations.shareClassFloorsSQL))[s.class]")) AS ceiling
                ) AS w
                """, [ranking.k1, ranking.b])
            let (closest, above, classes) = try rows.rows[0].decode((Double, Int, Int).self)
            #expect(above == 0)
            #expect(classes >= 12)
            if ranking.k1 > 0 && ranking.b > 0 { #expect(closest > 0.97, "\(closest)") }
        }
    }
}
