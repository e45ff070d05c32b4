// CYaml is Yams' copy of libyaml. Yams exposes no event stream, and by the time it hands back a composed tree the
// damage is done: composing an alias used as a mapping key hashes the expanded key for Yams' duplicate check, and
// swift-configuration flattens every alias it reaches into keys of its own.
import CYaml

/// Refuses YAML whose aliases would expand into far more nodes than the text holds ("billion laughs"), before
/// anything composes it.
///
/// Anchors and aliases are legitimate and cheap in the text: `&a [x, x, x]` and `[*a, *a, *a]` nested ten deep is a
/// few hundred bytes. Every consumer that walks the tree, though, walks the expansion: 3^10 nodes there, and more
/// with wider lists. So this counts, from libyaml's events alone, how many nodes the aliases add, and refuses the
/// text once that exceeds a budget. An alias used as a mapping key is refused outright: no real file needs one, and
/// a duplicate-key check hashes the whole expansion.
public enum AliasBudget {
    /// Why the text was refused, with the 1-based line of the alias that crossed the line.
    public struct Refusal: Error, Sendable, Equatable {
        public var line: Int
        public var message: String
    }

    /// Checks `text`; a refusal, or nil when the aliases stay within `maxAddedNodes` (syntax errors are left to the
    /// parser that follows, which reports them with more context).
    public static func check(_ text: String, maxAddedNodes: Int) -> Refusal? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> Refusal? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var counter = Counter(maxAddedNodes: maxAddedNodes)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return nil }
                if let refusal = counter.take(event) { return refusal }
            }
            return nil
        }
    }

    /// The running count: open collections, the expanded size of each anchor, the nodes added by aliases.
    private struct Counter {
        let maxAddedNodes: Int
        var open: [Collection] = []
        var anchorSizes: [String: Int] = [:]
        var added = 0

        struct Collection {
            var anchor: String?
            var isMapping: Bool
            var size = 1
            var children = 0
        }

        mutating func take(_ event: yaml_event_t) -> Refusal? {
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_SCALAR_EVENT:
                finish(size: 1, anchor: Self.name(event.data.scalar.anchor))
            case YAML_ALIAS_EVENT:
                let name = Self.name(event.data.alias.anchor) ?? ""
                if let parent = open.last, parent.isMapping, parent.children % 2 == 0 {
                    return Refusal(
                        line: line,
                        message:
                            "the alias *\(name) is used as a mapping key; write the key out (aliases may stand for "
                            + "values only)")
                }
                let size = anchorSizes[name] ?? 1
                added += size - 1
                if added > maxAddedNodes {
                    return Refusal(
                        line: line,
                        message:
                            "the aliases expand to more than \(maxAddedNodes) values (at *\(name)), far more than "
                            + "the file holds; write the values out instead of nesting aliases of aliases")
                }
                finish(size: size, anchor: nil)
            case YAML_SEQUENCE_START_EVENT:
                open.append(Collection(anchor: Self.name(event.data.sequence_start.anchor), isMapping: false))
            case YAML_MAPPING_START_EVENT:
                open.append(Collection(anchor: Self.name(event.data.mapping_start.anchor), isMapping: true))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                if let finished = open.popLast() { finish(size: finished.size, anchor: finished.anchor) }
            default:
                break
            }
            return nil
        }

        /// A complete node of `size` values: counted into its parent, and remembered if anchored.
        private mutating func finish(size: Int, anchor: String?) {
            if let anchor { anchorSizes[anchor] = size }
            if !open.isEmpty {
                open[open.count - 1].size += size
                open[open.count - 1].children += 1
            }
        }

        private static func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }
    }
}
