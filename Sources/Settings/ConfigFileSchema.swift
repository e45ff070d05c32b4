import Diagnostics
import Yams

/// Which keys `config.yaml` may hold.
///
/// An unknown key is a warning, not an error: a misspelt key must not stop a deployment, but it must not be silently
/// ignored either, because then the default quietly applies. A known key with the wrong shape (a list for `port`, a
/// scalar for `postgres:`) is an error, because no reading of it is safe.
enum ConfigFileSchema {
    /// The keys each section accepts, by dotted path ("" is the top level): the structure every key of the settings
    /// table implies, plus `database.url`, the database layer's short spelling.
    static let sections: [String: [String]] = {
        var sections: [String: [String]] = ["": ["postgres", "database", "store", "worker"]]
        func add(_ keyPath: [String]) {
            for index in keyPath.indices {
                let parent = keyPath[..<index].joined(separator: ".")
                if sections[parent]?.contains(keyPath[index]) != true {
                    sections[parent, default: []].append(keyPath[index])
                }
            }
        }
        for key in SettingKey.allCases {
            for layer in key.section.layers { add(layer.section + key.components) }
        }
        add(["database", "url"])
        return sections
    }()

    /// Other programs' and libpq's names for keys, which edit distance alone would not connect.
    private static let aliases: [String: String] = [
        "db": "database", "dbname": "database", "username": "user", "pass": "password", "passwd": "password",
        "hostname": "host", "min_size": "pool_size", "connect_timeout": "connection_timeout",
    ]

    /// The known key `key` probably meant, for the warning about it.
    ///
    /// A known key in the wrong section points to where it belongs under this one (`database.host` to
    /// `database.postgres.host`, a top-level `concurrency` to `worker.concurrency`), since that is the usual mistake;
    /// otherwise the closest sibling by edit distance or a known alias.
    static func suggestion(for key: String, in section: [String]) -> String? {
        let name = section.joined(separator: ".")
        let siblings = sections[name] ?? []
        let target = aliases[key.lowercased()] ?? key
        if !siblings.contains(target), let known = SettingKey.allCases.first(where: { $0.components.first == target }) {
            switch (known.section, name) {
            case (.postgres, ""): return "postgres.\(target)"
            case (.postgres, "database"): return "database.postgres.\(target)"
            case (.postgres, "store"), (.postgres, "store.database"): return "store.database.postgres.\(target)"
            case (.worker, ""): return "worker.\(target)"
            default: break
            }
        }
        if siblings.contains(target) { return target }
        return NameSuggestion.closest(to: key, among: siblings)
    }

    /// A depth-first walk of the YAML tree that records each key's line and checks it against the schema.
    struct Walk {
        let path: String
        var lines: [String: Int] = [:]
        var nullPaths: Set<String> = []
        var warnings: [String] = []
        var problems: [SettingsError.Problem] = []

        init(path: String) {
            self.path = path
        }

        /// Visits `node`, the value at `keyPath` whose key is on `line`.
        mutating func visit(_ node: Node, at keyPath: [String], line: Int?) {
            let dotted = keyPath.joined(separator: ".")
            if case .mapping(let mapping) = node {
                if sections[dotted] == nil {
                    problems.append(.file(path, line: line, "\(dotted) takes a single value, not a mapping"))
                    return
                }
                for (keyNode, value) in mapping {
                    guard let key = keyNode.scalar?.string, keyNode.null == nil else {
                        problems.append(.file(path, line: keyNode.mark?.line, "keys must be plain text"))
                        continue
                    }
                    // swift-configuration reads `a.b: 1` as `a: {b: 1}`, so the walk does too.
                    let components = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    visitEntry(components[...], value: value, under: keyPath, line: keyNode.mark?.line)
                }
                return
            }
            if node.null != nil {
                nullPaths.insert(dotted)
                return
            }
            if let children = sections[dotted] {
                let example = children.prefix(3).map { "\($0):" }.joined(separator: ", ")
                let name = dotted.isEmpty ? "the document" : dotted
                problems.append(.file(path, line: line, "\(name) must be a mapping of keys such as \(example)"))
            } else if node.scalar == nil {
                problems.append(.file(path, line: line, "\(dotted) takes a single value, not a list"))
            }
        }

        /// Visits the entry `components: value` in the mapping at `section`, one dotted component at a time.
        private mutating func visitEntry(
            _ components: ArraySlice<String>, value: Node, under section: [String], line: Int?
        ) {
            guard let first = components.first else { return }
            let keyPath = section + [first]
            let dotted = keyPath.joined(separator: ".")
            if let line, lines[dotted] == nil { lines[dotted] = line }
            guard sections[section.joined(separator: ".")]?.contains(first) == true else {
                warnings.append(unknownKeyWarning(first, in: section, line: line))
                return
            }
            if components.count == 1 {
                visit(value, at: keyPath, line: line)
            } else if sections[dotted] == nil {
                problems.append(.file(path, line: line, "\(dotted) takes a single value, not keys under it"))
            } else {
                visitEntry(components.dropFirst(), value: value, under: keyPath, line: line)
            }
        }

        private func unknownKeyWarning(_ key: String, in section: [String], line: Int?) -> String {
            let location = line.map { "\(path):\($0)" } ?? path
            let place = section.isEmpty ? "at the top level" : "in \(section.joined(separator: "."))"
            var message = "\(location): unknown key \(Quote.text(key)) \(place)"
            if let suggestion = ConfigFileSchema.suggestion(for: key, in: section) {
                message += "; did you mean '\(suggestion)'?"
            }
            return message
        }
    }
}
