/// How long a query's text may be (`worker.query_max_chars`, `worker.query_max_words`).
///
/// A search parses its whole text and matches and ranks messages against every word of it, so server time grows
/// with the text: 10,000 characters took seconds, holding a connection all along. Queries people write are far
/// shorter, so a longer one is refused before it reaches the server: in a job file as a validation error, in a JSON
/// Lines source as a bad record.
///
/// Characters are counted as PostgreSQL's `length()` counts them (Unicode code points); words are runs of characters
/// other than whitespace, so `"trail OR summit"` is three words, whatever the text-search configuration later drops.
public struct QueryLimits: Sendable, Equatable {
    public var maxCharacters: Int
    public var maxWords: Int

    public init(maxCharacters: Int = 1000, maxWords: Int = 64) {
        self.maxCharacters = maxCharacters
        self.maxWords = maxWords
    }

    /// What is wrong with the length of `text`, phrased to follow the field's name ("'query' " + "has 70 words; ...");
    /// nil within the limits.
    func violation(_ text: String) -> String? {
        // A code point takes at least one byte, so text no longer in bytes than the limit is within it uncounted.
        if text.utf8.count > maxCharacters {
            let characters = text.unicodeScalars.count
            if characters > maxCharacters {
                return "has \(characters) characters; a query may have at most \(maxCharacters) "
                    + "(worker.query_max_chars): shorten it, or raise worker.query_max_chars"
            }
        }
        let words = Self.wordCount(text)
        if words > maxWords {
            return "has \(words) words; a query may have at most \(maxWords) (worker.query_max_words): shorten it, "
                + "or raise worker.query_max_words"
        }
        return nil
    }

    /// Runs of code points other than whitespace.
    static func wordCount(_ text: String) -> Int {
        var words = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            let isSpace = scalar.properties.isWhitespace
            if !isSpace, !inWord { words += 1 }
            inWord = !isSpace
        }
        return words
    }
}
