import Foundation
import Jobs
import Testing

@Suite struct LabelsFileTests {
    @Test func labelsAreReadWithIdsTextsAndCategories() throws {
        let folder = try TempFolder()
        let path = try folder.write(
            "labels.jsonl",
            """
            {"user": "u", "query": "where is the kiwi", "relevant": ["the kiwi is here", 42], "category": "names"}

            {"user": "v", "query": "trail", "relevant": ["m-7"]}
            """)
        let labels = try LabelsFile.load(path, limits: QueryLimits())
        #expect(labels.map(\.user) == ["u", "v"])
        #expect(labels[0].relevant == ["the kiwi is here", "42"])
        #expect(labels[0].category == "names")
        #expect(labels[1].category == nil)
        #expect(labels.map(\.line) == [1, 3])
    }

    @Test func everyBadLineIsReportedWithItsLine() throws {
        let folder = try TempFolder()
        let path = try folder.write(
            "labels.jsonl",
            """
            {"user": "u", "query": "fine", "relevant": ["x"]}
            not json
            {"user": "u", "query": "no answers", "relevant": []}
            {"user": "u", "query": "one two three", "relevant": ["x"]}
            {"user": "", "query": "q", "relevant": ["x"]}
            {"user": "u", "query": "q", "relevant": ["x"], "category": 3}
            """)
        #expect {
            try LabelsFile.load(path, limits: QueryLimits(maxCharacters: 100, maxWords: 2))
        } throws: { error in
            let problems = (error as? JobValidationError)?.problems ?? []
            return problems.count == 5 && problems[0].hasPrefix("\(path):2: the line is not a JSON object")
                && problems[1].hasPrefix("\(path):3: field 'relevant'")
                && problems[2].hasPrefix("\(path):4: field 'query' has 3 words")
                && problems[3].hasPrefix("\(path):5: field 'user'")
                && problems[4].hasPrefix("\(path):6: field 'category'")
        }
    }

    @Test func aMissingOrEmptyFileIsAProblem() throws {
        let folder = try TempFolder()
        let empty = try folder.write("empty.jsonl", "\n\n")
        for path in [empty, folder.path("missing.jsonl")] {
            #expect(throws: JobValidationError.self) { try LabelsFile.load(path, limits: QueryLimits()) }
        }
    }
}
