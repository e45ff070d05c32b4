import Diagnostics
import Yams

/// A YAML file's one document as Yams' node tree, read the same way for job files and the config file: aliases
/// checked first (``AliasBudget``), then composed, and every problem worded once.
public enum YAMLDocument {
    /// What is wrong with the text: the 1-based line (nil where libyaml gives none) and the message, which never
    /// quotes the document (libyaml's own wording does not), so no value and no password leaks through it.
    public struct Problem: Error, Sendable, Equatable {
        public var line: Int?
        public var message: String
    }

    /// The root node of `text`, nil for an empty document (or one of comments only). Aliases may add at most
    /// `maxAliasExpansion` values; `oneDocument` tells how to do without a second document (`---`).
    public static func compose(_ text: String, maxAliasExpansion: Int, oneDocument: String) throws(Problem) -> Node? {
        if let refusal = AliasBudget.check(text, maxAddedNodes: maxAliasExpansion) {
            throw Problem(line: refusal.line, message: "refused YAML: \(refusal.message)")
        }
        do {
            return try Yams.compose(yaml: text)
        } catch {
            throw problem(error, text: text, oneDocument: oneDocument)
        }
    }

    private static func problem(_ error: any Error, text: String, oneDocument: String) -> Problem {
        guard let error = error as? YamlError else {
            return Problem(line: nil, message: "invalid YAML: \(type(of: error))")
        }
        switch error {
        case .composer(let context, _, let mark, _) where context?.text == "expected a single document in the stream":
            return Problem(
                line: mark.line, message: "invalid YAML: a second document starts here ('---'); \(oneDocument)")
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "invalid YAML at column \(mark.column): \(Quote.line(problem))"
            if let context { message += " (\(Quote.line(context.text)) at line \(context.mark.line))" }
            return Problem(line: mark.line, message: message)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { Quote.text($0) }.joined(separator: ", ")
            return Problem(
                line: context.mark.line, message: "invalid YAML: key \(keys) appears twice in one mapping; keep one")
        case .reader(let problem, let offset, _, _):
            let line = offset.map { offset in text.prefix(offset).reduce(1) { $1 == "\n" ? $0 + 1 : $0 } }
            return Problem(line: line, message: "invalid YAML: \(Quote.line(problem))")
        default:
            return Problem(line: nil, message: "invalid YAML")
        }
    }
}
