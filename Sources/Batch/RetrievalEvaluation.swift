import Foundation
import Jobs
import MemoryStore
import Postgres

/// How well a store's search answers a labelled set (`worker eval`): recall at k, MRR and nDCG at 10, and recall
/// within a character budget, overall and per category.
///
/// A hit answers a label's relevant entry when its text is that entry or one of its messages has that source id.
/// Every metric is the mean over questions of a per-question value in 0...1.
public struct RetrievalEvaluation: Sendable {
    public var topK: Int
    public var budgetChars: Int

    public init(topK: Int, budgetChars: Int) {
        self.topK = topK
        self.budgetChars = budgetChars
    }

    /// Means over a set of questions.
    public struct Metrics: Sendable, Equatable, Encodable {
        public var questions = 0
        public var recallAtK = 0.0
        public var mrrAt10 = 0.0
        public var ndcgAt10 = 0.0
        public var recallWithinBudget = 0.0

        enum CodingKeys: String, CodingKey {
            case questions
            case recallAtK = "recall_at_k"
            case mrrAt10 = "mrr_at_10"
            case ndcgAt10 = "ndcg_at_10"
            case recallWithinBudget = "recall_within_budget"
        }

        /// Adds one question's values into the means.
        mutating func add(_ other: Metrics) {
            let total = Double(questions + 1)
            recallAtK += (other.recallAtK - recallAtK) / total
            mrrAt10 += (other.mrrAt10 - mrrAt10) / total
            ndcgAt10 += (other.ndcgAt10 - ndcgAt10) / total
            recallWithinBudget += (other.recallWithinBudget - recallWithinBudget) / total
            questions += 1
        }
    }

    /// The whole evaluation.
    public struct Report: Sendable, Equatable, Encodable {
        public var topK: Int
        public var budgetChars: Int
        public var overall = Metrics()
        public var categories: [String: Metrics] = [:]

        enum CodingKeys: String, CodingKey {
            case topK = "top_k"
            case budgetChars = "budget_chars"
            case overall, categories
        }

        public func json() throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        }

        /// One row per category, then the overall row.
        public func table() -> String {
            let header = ["category", "questions", "recall@\(topK)", "MRR@10", "nDCG@10", "recall@\(budgetChars)ch"]
            let rows =
                categories.keys.sorted().compactMap { name in categories[name].map { (name, $0) } }
                + [("overall", overall)]
            let cells =
                [header]
                + rows.map { name, metrics in
                    [name, String(metrics.questions)]
                        + [metrics.recallAtK, metrics.mrrAt10, metrics.ndcgAt10, metrics.recallWithinBudget].map {
                            String(format: "%.3f", $0)
                        }
                }
            let widths = header.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
            return cells.map { row in
                zip(row, widths).enumerated().map { column, cell in
                    let (text, width) = cell
                    let padding = String(repeating: " ", count: width - text.count)
                    return column == 0 ? text + padding : padding + text
                }.joined(separator: "  ")
            }.joined(separator: "\n")
        }
    }

    /// Hits to ask the store for: enough for every metric, and for the budget to be filled by short messages.
    public var hitsNeeded: Int { max(topK, 10, 1000) }

    /// One question's ranked hits and what answers it.
    package struct Answer: Sendable {
        var hits: [MemoryHit]
        var relevant: [String]
        var category: String?

        package init(hits: [MemoryHit], relevant: [String], category: String?) {
            self.hits = hits
            self.relevant = relevant
            self.category = category
        }
    }

    /// Runs every label's query through `store.search` on `connection` and scores the hits.
    public func run(_ labels: [LabelledQuery], store: MemoryStore, on connection: PostgresConnection) async throws
        -> Report
    {
        var answers: [Answer] = []
        for label in labels {
            let hits = try await store.search(user: label.user, query: label.query, topK: hitsNeeded, on: connection)
            answers.append(Answer(hits: hits, relevant: label.relevant, category: label.category))
        }
        return report(answers)
    }

    /// The metrics of ranked hits, whoever ranked them (the bench scores its reference ranking with this too).
    package func report(_ answers: [Answer]) -> Report {
        var report = Report(topK: topK, budgetChars: budgetChars)
        for answer in answers {
            let metrics = score(answer.hits, relevant: answer.relevant)
            report.overall.add(metrics)
            if let category = answer.category { report.categories[category, default: Metrics()].add(metrics) }
        }
        return report
    }

    /// One question's values for ranked `hits`.
    func score(_ hits: [MemoryHit], relevant: [String]) -> Metrics {
        // For each hit, the relevant entries it answers that no better hit answered.
        var found = Set<String>()
        let gains: [Int] = hits.map { hit in
            let answers = relevant.filter { entry in
                !found.contains(entry)
                    && (hit.content == entry || hit.messages.contains { $0.sourceID == entry })
            }
            found.formUnion(answers)
            return answers.count
        }
        let total = Double(Set(relevant).count)
        func recall(_ prefix: some Collection<Int>) -> Double { Double(prefix.reduce(0, +)) / total }
        var metrics = Metrics(questions: 1)
        metrics.recallAtK = recall(gains.prefix(topK))
        if let first = gains.prefix(10).firstIndex(where: { $0 > 0 }) { metrics.mrrAt10 = 1 / Double(first + 1) }
        let dcg = gains.prefix(10).enumerated().reduce(0.0) { $0 + Double($1.element) / log2(Double($1.offset + 2)) }
        let ideal = (0..<min(Int(total), 10)).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
        metrics.ndcgAt10 = ideal > 0 ? dcg / ideal : 0
        metrics.recallWithinBudget = recall(gains.prefix(hits.prefix(withinBudget: budgetChars).count))
        return metrics
    }
}
