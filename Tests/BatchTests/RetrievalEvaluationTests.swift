import Foundation
import MemoryStore
import Testing

@testable import Batch

@Suite struct RetrievalEvaluationTests {
    private static func hits(_ contents: [String], sourceIDs: [String?]? = nil) -> [MemoryHit] {
        contents.enumerated().map { index, content in
            MemoryHit(
                rank: index + 1, score: 1, user: "u", session: "s",
                messages: [
                    MemoryHit.Message(id: index, sourceID: sourceIDs?[index], position: index)
                ], content: content, createdAt: nil)
        }
    }

    @Test func oneAnswerAtRankTwo() {
        let evaluation = RetrievalEvaluation(topK: 1, budgetChars: 9)
        let metrics = evaluation.score(Self.hits(["aaaa", "bbbb", "cccc"]), relevant: ["bbbb"])
        #expect(metrics.recallAtK == 0)
        #expect(metrics.mrrAt10 == 0.5)
        #expect(abs(metrics.ndcgAt10 - 1 / log2(3)) < 1e-12)
        #expect(metrics.recallWithinBudget == 1)  // 4 + 4 characters fit in 9
        let tight = RetrievalEvaluation(topK: 2, budgetChars: 7).score(Self.hits(["aaaa", "bbbb"]), relevant: ["bbbb"])
        #expect(tight.recallAtK == 1)
        #expect(tight.recallWithinBudget == 0)  // the second hit would pass 7 characters
    }

    @Test func twoAnswersBySourceIdAndTextCountOnceEach() {
        let evaluation = RetrievalEvaluation(topK: 10, budgetChars: 100)
        let metrics = evaluation.score(
            Self.hits(["x", "answer", "answer", "y"], sourceIDs: [nil, nil, nil, "m-9"]), relevant: ["answer", "m-9"])
        #expect(metrics.recallAtK == 1)
        #expect(metrics.mrrAt10 == 0.5)
        let ideal = 1 + 1 / log2(3.0)
        #expect(abs(metrics.ndcgAt10 - (1 / log2(3.0) + 1 / log2(5.0)) / ideal) < 1e-12)
        #expect(evaluation.score([], relevant: ["answer"]) == RetrievalEvaluation.Metrics(questions: 1))
    }

    @Test func categoriesAndOverallAreMeansOverQuestions() throws {
        var report = RetrievalEvaluation.Report(topK: 5, budgetChars: 10)
        var one = RetrievalEvaluation.Metrics(questions: 1)
        one.recallAtK = 1
        report.overall.add(one)
        report.overall.add(RetrievalEvaluation.Metrics(questions: 1))
        #expect(report.overall.questions == 2)
        #expect(report.overall.recallAtK == 0.5)
        let json = try report.json()
        #expect(json.contains("\"recall_at_k\" : 0.5") && json.contains("\"top_k\" : 5"))
        #expect(report.table().contains("recall@5") && report.table().contains("overall"))
    }
}
