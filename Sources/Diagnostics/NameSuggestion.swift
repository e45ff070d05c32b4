/// The known name a misspelt one was most likely meant to be, for the "did you mean" hints of job files and
/// `config.yaml`, which share one notion of "close enough".
public enum NameSuggestion {
    /// The candidate with the smallest Levenshtein distance to `name`, when close enough to be a typo: at most 2 edits,
    /// or a third of the name for long names. Case and `-` versus `_` are not counted, so `Batch-Size` finds
    /// `batch_size`. Ties go to the earlier candidate, so hints do not depend on hashing.
    public static func closest(to name: String, among candidates: [String]) -> String? {
        let normalized = normalize(name)
        let limit = max(2, normalized.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = levenshtein(normalized, normalize(candidate))
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// `; did you mean 'x'?` or nothing, ready to append to a message.
    public static func hint(for name: String, among candidates: [String]) -> String {
        closest(to: name, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    private static func normalize(_ name: String) -> [Character] {
        name.lowercased().map { $0 == "-" ? "_" : $0 }
    }

    /// Insertions, deletions and substitutions needed to turn `a` into `b`, with two rows of the table.
    static func levenshtein(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
