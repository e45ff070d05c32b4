import CYAMLEvents

/// Refuses YAML whose aliases would expand into far more nodes than the text holds ("billion laughs"), before
/// anything composes it.
///
/// Anchors and aliases are legitimate and cheap in the text: `&a [x, x, x]` and `[*a, *a, *a]` nested ten deep is a
/// few hundred bytes. Every consumer that walks the tree, though, walks the expansion: 3^10 nodes there, and more
/// with wider lists. So this counts, from libyaml's events alone, how many nodes the aliases add, and refuses the
/// text once that exceeds a budget. An alias used as a mapping key is refused outright: no real file needs one, and
/// a duplicate-key check hashes the whole expansion.
///
/// Events, because Yams offers none: by the time it hands back a composed tree the damage is done (composing an
/// alias used as a mapping key hashes the expanded key for Yams' duplicate check, and swift-configuration flattens
/// every alias it reaches into keys of its own). `CYAMLEvents` says why they come from the system's libyaml.
package enum AliasBudget {
    /// Why the text was refused, with the 1-based line of the alias that crossed the line.
    package struct Refusal: Error, Sendable, Equatable {
        package var line: Int
        package var message: String
    }

    /// Checks `text`; a refusal, or nil when the aliases stay within `maxAddedNodes` (syntax errors are left to the
    /// parser that follows, which reports them with more context).
    package static func check(_ text: String, maxAddedNodes: Int) -> Refusal? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> Refusal? in
            var error: UnsafePointer<CChar>?
            guard let events = mw_yaml_events_open(buffer.baseAddress, buffer.count, &error) else {
                let reason = error.map { String(cString: $0) } ?? "unknown"
                return Refusal(
                    line: 1,
                    message:
                        "cannot check the file's anchors and aliases: libyaml did not load (\(reason)); install "
                        + "libyaml-0-2 (make setup)")
            }
            defer { mw_yaml_events_close(events) }
            var counter = Counter(maxAddedNodes: maxAddedNodes)
            var event = mw_yaml_event()
            while mw_yaml_events_next(events, &event) == 1 {
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

        mutating func take(_ event: mw_yaml_event) -> Refusal? {
            let line = event.line + 1
            let anchor = event.anchor.map { String(cString: $0) }
            switch event.kind {
            case MW_YAML_SCALAR:
                finish(size: 1, anchor: anchor)
            case MW_YAML_ALIAS:
                let name = anchor ?? ""
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
            case MW_YAML_SEQUENCE_START:
                open.append(Collection(anchor: anchor, isMapping: false))
            case MW_YAML_MAPPING_START:
                open.append(Collection(anchor: anchor, isMapping: true))
            case MW_YAML_COLLECTION_END:
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
    }
}
