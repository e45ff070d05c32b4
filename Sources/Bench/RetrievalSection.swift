import Batch
import Foundation
import MemoryStore
import Postgres
import SampleData

/// Item 7: how well the worker's search answers the generated labelled set, next to a textbook Okapi BM25 computed
/// here over the same messages with the same lexemes, and how fast it answers for a user with 50,000 messages.
struct RetrievalResult: Codable, Sendable {
    /// Means over the questions (see `RetrievalEvaluation`), at `budgetChars` characters for recall within budget.
    struct Figures: Codable, Sendable {
        var recallAt5: Double
        var recallAt10: Double
        var mrrAt10: Double
        var ndcgAt10: Double
        var recallWithinBudget: Double
    }

    var questions: Int
    var messages: Int
    var budgetChars: Int
    var ours: Figures
    var reference: Figures
    /// Ours / reference, recall within the budget.
    var ratio: Double
    var target = 1.0
    var goal = 1.15
    var largeUserMessages: Int
    var latencyQueries: Int
    var latencyP50Ms: Double
    var latencyP95Ms: Double
    var latencyTargetMs = 20.0
}

struct RetrievalSection {
    let worker: WorkerRunner
    let admin: AdminConnection
    let configuration: ConnectionConfiguration
    let directory: URL
    let schema: String

    var schemas: [String] { [schema, largeUserSchema] }
    private var largeUserSchema: String { schema + "_user50k" }
    private let budgetChars = 2000

    func run() async throws -> RetrievalResult {
        progress("generating the labelled set")
        let set = try LabelledConversations(
            seed: 1, users: 50, sessionsPerUser: 10, totalMessages: 20_000, questions: 1000)
        let messages = directory.appendingPathComponent("labelled-messages.jsonl")
        let labels = directory.appendingPathComponent("labels.jsonl")
        try set.messages.writeJSONLines(to: messages)
        try set.writeLabels(to: labels)
        let config = try worker.writeConfig(name: "retrieval.config.yaml", poolSize: 4, maxOverflow: 0)
        let job = try worker.writeJob(
            name: "retrieval-ingest.yaml",
            lines: ["name: labelled-ingest", "kind: ingest", "source: \(messages.lastPathComponent)"])
        let atTen = try await worker.eval(
            labels: labels, topK: 10, budgetChars: budgetChars, jobs: [job], config: config, schema: schema,
            label: "worker-eval-10")
        let atFive = try await worker.eval(
            labels: labels, topK: 5, budgetChars: budgetChars, jobs: [], config: config, schema: schema,
            label: "worker-eval-5")
        let ours = RetrievalResult.Figures(
            recallAt5: atFive.recallAtK, recallAt10: atTen.recallAtK, mrrAt10: atTen.mrrAt10,
            ndcgAt10: atTen.ndcgAt10, recallWithinBudget: atTen.recallWithinBudget)
        let reference = try await referenceFigures(set.labels)
        let latency = try await largeUserLatency(config: config)
        let percentiles = PoolUsage.Percentiles.of(latency.samples.sorted())
        return RetrievalResult(
            questions: set.labels.count, messages: set.messages.count, budgetChars: budgetChars, ours: ours,
            reference: reference, ratio: ours.recallWithinBudget / max(reference.recallWithinBudget, 1e-9),
            largeUserMessages: latency.messages, latencyQueries: latency.samples.count,
            latencyP50Ms: percentiles.p50, latencyP95Ms: percentiles.p95)
    }

    /// Textbook Okapi BM25 (k1 1.2, b 0.75, idf `ln((N − df + 0.5) / (df + 0.5))`) over each user's messages as the
    /// worker stored them, with lexemes from `to_tsvector` in the store's configuration, for messages and queries
    /// alike; ties go to the newer message, as the worker's do. Scored by the same code as `worker eval`.
    private func referenceFigures(_ labels: [LabelledConversations.Label]) async throws -> RetrievalResult.Figures {
        let rows = try await admin.connection.query(
            """
            SELECT m.id, m.user_id, m.content, coalesce(m.created_at, m.ingested_at),
                   coalesce(array_agg(v.lexeme) FILTER (WHERE v.lexeme IS NOT NULL), '{}')::text[],
                   coalesce(array_agg(coalesce(cardinality(v.positions), 1)) FILTER (WHERE v.lexeme IS NOT NULL),
                            '{}')::text[]
            FROM \(schema).messages AS m
            LEFT JOIN LATERAL unnest(to_tsvector('english', m.content)) AS v ON true
            GROUP BY m.id
            """)
        var corpora: [String: ReferenceCorpus] = [:]
        for row in rows.rows {
            let (id, user, content, createdAt, lexemes, counts) = try row.decode(
                (Int, String, String, Date, TextArray, TextArray).self)
            var frequencies: [String: Int] = [:]
            for (lexeme, count) in zip(lexemes.elements, counts.elements) {
                if let lexeme, let count = count.flatMap({ Int($0) }) { frequencies[lexeme] = count }
            }
            corpora[user, default: ReferenceCorpus()].add(
                ReferenceCorpus.Document(id: id, content: content, createdAt: createdAt, frequencies: frequencies))
        }
        let terms = try await admin.connection.query(
            """
            SELECT tsvector_to_array(to_tsvector('english', q.text))::text[]
            FROM unnest($1::text[]) WITH ORDINALITY AS q(text, number)
            ORDER BY q.number
            """, [TextArray(labels.map(\.query))])
        let answers = try zip(labels, terms.rows).map { label, row in
            let queryTerms = try row.decode(0, as: TextArray.self).elements.compactMap { $0 }
            let hits = corpora[label.user]?.ranked(queryTerms, user: label.user) ?? []
            return RetrievalEvaluation.Answer(hits: hits, relevant: label.relevant, category: label.category)
        }
        let five = RetrievalEvaluation(topK: 5, budgetChars: budgetChars).report(answers).overall
        let ten = RetrievalEvaluation(topK: 10, budgetChars: budgetChars).report(answers).overall
        return RetrievalResult.Figures(
            recallAt5: five.recallAtK, recallAt10: ten.recallAtK, mrrAt10: ten.mrrAt10, ndcgAt10: ten.ndcgAt10,
            recallWithinBudget: ten.recallWithinBudget)
    }

    /// Search latency for one user with 50,000 messages (50 sessions), through `MemoryStore.search` on one
    /// connection: the user's own words alone and in questions, after a warm-up.
    private func largeUserLatency(config: URL) async throws -> (messages: Int, samples: [Double]) {
        let generator = try ConversationGenerator(seed: 1, users: 1, sessionsPerUser: 50, totalMessages: 50_000)
        let file = directory.appendingPathComponent("user-50k.jsonl")
        try generator.writeJSONLines(to: file)
        let job = try worker.writeJob(
            name: "user-50k.yaml",
            lines: ["name: user-50k", "kind: ingest", "source: \(file.lastPathComponent)", "batch_size: 1000"])
        _ = try await worker.run(job: job, config: config, schema: largeUserSchema, label: "worker-ingest-user-50k")
        try await admin.execute("VACUUM ANALYZE \(largeUserSchema).messages")
        let workload = QueryWorkload(generator)
        let words = workload.words[0]
        let queries = words.indices.flatMap { index in
            [words[index], "what did I say about the \(words[index]) and \(words[(index + 1) % words.count])?"]
        }
        let store = MemoryStore(schema: largeUserSchema)
        let connection = try await PostgresConnection.connect(configuration)
        defer { connection.close() }
        let user = workload.users[0]
        for query in queries.prefix(20) {
            _ = try await store.search(user: user, query: query, topK: 10, on: connection)
        }
        var samples: [Double] = []
        for _ in 0..<10 {
            for query in queries {
                let start = ContinuousClock.now
                _ = try await store.search(user: user, query: query, topK: 10, on: connection)
                samples.append(seconds(since: start) * 1000)
            }
        }
        return (generator.messageCount, samples)
    }
}

/// One user's messages and statistics for the reference ranking.
private struct ReferenceCorpus {
    struct Document {
        var id: Int
        var content: String
        var createdAt: Date
        var frequencies: [String: Int]
        var length: Int { frequencies.values.reduce(0, +) }
    }

    private(set) var documents: [Document] = []
    private var documentFrequency: [String: Int] = [:]
    private var totalLength = 0

    mutating func add(_ document: Document) {
        documents.append(document)
        totalLength += document.length
        for lexeme in document.frequencies.keys { documentFrequency[lexeme, default: 0] += 1 }
    }

    /// The documents holding any of `terms`, best first, as hits.
    func ranked(_ terms: [String], user: String) -> [MemoryHit] {
        let (k1, b) = (1.2, 0.75)
        let count = Double(documents.count)
        let average = Double(totalLength) / max(count, 1)
        let distinct = Array(Set(terms))
        let scored: [(score: Double, document: Document)] = documents.compactMap { document in
            var score = 0.0
            var matched = false
            for term in distinct {
                guard let tf = document.frequencies[term].map(Double.init) else { continue }
                matched = true
                let df = Double(documentFrequency[term] ?? 0)
                let idf = log((count - df + 0.5) / (df + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * Double(document.length) / average))
            }
            return matched ? (score, document) : nil
        }
        return scored.sorted { lhs, rhs in
            (lhs.score, lhs.document.createdAt, lhs.document.id) > (rhs.score, rhs.document.createdAt, rhs.document.id)
        }.enumerated().map { index, entry in
            MemoryHit(
                rank: index + 1, score: entry.score, user: user, session: "",
                messages: [MemoryHit.Message(id: entry.document.id, sourceID: nil, position: 0)],
                content: entry.document.content, createdAt: entry.document.createdAt)
        }
    }
}
