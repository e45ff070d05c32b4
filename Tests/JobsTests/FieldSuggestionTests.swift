import Testing

@testable import Diagnostics
@testable import Jobs

@Suite struct FieldSuggestionTests {
    @Test func levenshteinDistance() {
        #expect(NameSuggestion.levenshtein(Array("kitten"), Array("sitting")) == 3)
        #expect(NameSuggestion.levenshtein(Array(""), Array("abc")) == 3)
        #expect(NameSuggestion.levenshtein(Array("abc"), Array("abc")) == 0)
        #expect(NameSuggestion.levenshtein(Array("batchsize"), Array("batch_size")) == 1)
    }

    @Test func closestNameWithinReach() {
        let fields = ["name", "kind", "batch_size", "on_bad_record", "top_k"]
        #expect(NameSuggestion.closest(to: "batchsize", among: fields) == "batch_size")
        #expect(NameSuggestion.closest(to: "Batch-Size", among: fields) == "batch_size")
        #expect(NameSuggestion.closest(to: "on_bad_records", among: fields) == "on_bad_record")
        #expect(NameSuggestion.closest(to: "nmae", among: fields) == "name")
        #expect(NameSuggestion.closest(to: "completely_different", among: fields) == nil)
        #expect(NameSuggestion.closest(to: "x", among: []) == nil)
    }

    @Test func tiesGoToTheEarlierCandidate() {
        #expect(NameSuggestion.closest(to: "ab", among: ["aa", "bb"]) == "aa")
    }
}
