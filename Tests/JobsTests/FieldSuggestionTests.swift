import Testing

@testable import Jobs

@Suite struct FieldSuggestionTests {
    @Test func levenshteinDistance() {
        #expect(FieldSuggestion.levenshtein(Array("kitten"), Array("sitting")) == 3)
        #expect(FieldSuggestion.levenshtein(Array(""), Array("abc")) == 3)
        #expect(FieldSuggestion.levenshtein(Array("abc"), Array("abc")) == 0)
        #expect(FieldSuggestion.levenshtein(Array("batchsize"), Array("batch_size")) == 1)
    }

    @Test func closestNameWithinReach() {
        let fields = ["name", "kind", "batch_size", "on_bad_record", "top_k"]
        #expect(FieldSuggestion.closest(to: "batchsize", among: fields) == "batch_size")
        #expect(FieldSuggestion.closest(to: "Batch-Size", among: fields) == "batch_size")
        #expect(FieldSuggestion.closest(to: "on_bad_records", among: fields) == "on_bad_record")
        #expect(FieldSuggestion.closest(to: "nmae", among: fields) == "name")
        #expect(FieldSuggestion.closest(to: "completely_different", among: fields) == nil)
        #expect(FieldSuggestion.closest(to: "x", among: []) == nil)
    }

    @Test func tiesGoToTheEarlierCandidate() {
        #expect(FieldSuggestion.closest(to: "ab", among: ["aa", "bb"]) == "aa")
    }
}
