import Diagnostics
import Yams

/// Which keys `config.yaml` may hold.
///
/// An unknown key is a warning, not an error: a misspelt key must not stop a deployment, but it must not be silently
/// ignored either, because then the default quietly applies. A known key with the wrong shape (a list for `port`, a
/// scalar for `postgres:`) is an error, because no reading of it is safe.
enum ConfigFileSchema {
    private static let postgresKeys = SettingKey.allCases.map(\.rawValue)

    /// The keys each known section accepts, by dotted path; "" is the top level.
    static let sections: [String: [String]] = [
        "": ["postgres", "database", "store", "worker"],
        "postgres": postgresKeys,
        "database": ["url", "postgres"],
        "database.postgres": postgresKeys,
        "store": ["database"],
        "store.database": ["postgres"],
        "store.database.postgres": postgresKeys,
    ]

    /// Sections later issues fill in; anything goes inside them.
    static let openSections: Set<String> = ["worker"]

    /// Other programs' and libpq's names for keys, which edit distance alone would not connect.
    private static let aliases: [String: String] = [
        "db": "database", "dbname": "database", "username": "user", "pass": "password", "passwd": "password",
        "hostname": "host", "min_size": "pool_size", "connect_timeout": "connection_timeout",
    ]

    /// The known key `key` probably meant, for the warning about it.
    ///
    /// A postgres key one level too high (`database.host`) points to the postgres section under it, since that is
    /// the usual mistake; otherwise the closest sibling by edit distance or a known alias.
    static func suggestion(for key: String, in section: [String]) -> String? {
        let name = section.joined(separator: ".")
        let target = aliases[key.lowercased()] ?? (SettingKey(rawValue: key) != nil ? key : nil)
        if let target, sections[name] != postgresKeys {
            switch name {
            case "": return "postgres.\(target)"
            case "database": return "database.postgres.\(target)"
            case "store", "store.database": return "store.database.postgres.\(target)"
            default: break
            }
        }
        if let target, sections[name]?.contains(target) == true { return target }
        return NameSuggestion.closest(to: key, among: sections[name] ?? [])
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

        /// Visits `node`, the value at `keyPath` whose key is on `line`; `validate` is false inside open sections.
        mutating func visit(_ node: Node, at keyPath: [String], line: Int?, validate: Bool) {
            let dotted = keyPath.joined(separator: ".")
            if case .mapping(let mapping) = node {
                if validate, sections[dotted] == nil {
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
                    visitEntry(
                        components[...], value: value, under: keyPath, line: keyNode.mark?.line, validate: validate)
                }
                return
            }
            if node.null != nil {
                nullPaths.insert(dotted)
                return
            }
            guard validate else { return }
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
            _ components: ArraySlice<String>, value: Node, under section: [String], line: Int?, validate: Bool
        ) {
            guard let first = components.first else { return }
            let keyPath = section + [first]
            let dotted = keyPath.joined(separator: ".")
            if let line, lines[dotted] == nil { lines[dotted] = line }
            var validateBelow = validate
            if validate {
                guard sections[section.joined(separator: ".")]?.contains(first) == true else {
                    warnings.append(unknownKeyWarning(first, in: section, line: line))
                    return
                }
                validateBelow = !ConfigFileSchema.openSections.contains(dotted)
            }
            if components.count == 1 {
                visit(value, at: keyPath, line: line, validate: validateBelow)
            } else if validateBelow, sections[dotted] == nil {
                problems.append(.file(path, line: line, "\(dotted) takes a single value, not keys under it"))
            } else {
                visitEntry(components.dropFirst(), value: value, under: keyPath, line: line, validate: validateBelow)
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
