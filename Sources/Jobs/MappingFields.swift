import Diagnostics
import Yams

/// A YAML mapping read one field at a time. Each read checks the value's type and range and, when it is wrong,
/// records a problem that names the field, its owner, the value found and what is accepted, at the field's line.
struct MappingFields {
    private struct Entry {
        var keyLine: Int
        var value: Node
    }

    /// Entries by field name, and the names in the order written (for the unknown-field check).
    private var entries: [String: Entry] = [:]
    private var names: [Located<String>] = []
    /// Where the mapping starts.
    let line: Int
    /// How messages name the mapping, such as "job 'ingest-alice'" or "message 2 of job 'ingest-alice'".
    var owner: String

    init(_ mapping: Node.Mapping, line: Int, owner: String, problems: inout FileProblems) {
        self.line = line
        self.owner = owner
        for (key, value) in mapping {
            let keyLine = key.mark?.line ?? line
            guard case .scalar(let scalar) = key else {
                problems.add(line: keyLine, "a field name in \(owner) is \(Self.describe(key)); write plain names")
                continue
            }
            entries[scalar.string] = Entry(keyLine: keyLine, value: value)
            names.append(Located(value: scalar.string, line: keyLine))
        }
    }

    /// Whether `key` is given a value (`key:` and `key: null` count as not given, so defaults apply).
    func has(_ key: String) -> Bool {
        value(key) != nil
    }

    /// The value at `key`, unless absent or null.
    func value(_ key: String) -> Node? {
        guard let entry = entries[key], entry.value.null == nil else { return nil }
        return entry.value
    }

    /// The line of `key`, or of the mapping when the key is absent.
    func line(of key: String) -> Int {
        entries[key]?.keyLine ?? line
    }

    /// Records a problem for every field not in `known`: a field of another kind of job is named as such
    /// (`elsewhere` maps it to a note), a near miss gets the closest known name, anything else the list of names.
    func reportUnknown(known: [String], elsewhere: [String: String] = [:], problems: inout FileProblems) {
        for name in names where !known.contains(name.value) {
            if let note = elsewhere[name.value] {
                problems.add(line: name.line, "field \(Quote.text(name.value)) in \(owner) \(note)")
            } else if let suggestion = NameSuggestion.closest(to: name.value, among: known) {
                problems.add(
                    line: name.line,
                    "unknown field \(Quote.text(name.value)) in \(owner); did you mean '\(suggestion)'?")
            } else {
                problems.add(
                    line: name.line,
                    "unknown field \(Quote.text(name.value)) in \(owner); the known fields are \(known.joined(separator: ", "))"
                )
            }
        }
    }

    /// A problem with the value of `key`: "field 'key' in OWNER is VALUE; expected EXPECTED".
    func problem(_ key: String, is found: String, expected: String, problems: inout FileProblems) {
        problems.add(line: line(of: key), "field '\(key)' in \(owner) \(found); expected \(expected)")
    }

    /// A required field that is absent or null.
    func missing(_ key: String, expected: String, problems: inout FileProblems) {
        if entries[key] != nil {
            problem(key, is: "has no value", expected: expected, problems: &problems)
        } else {
            problems.add(line: line, "missing field '\(key)' in \(owner); expected \(expected)")
        }
    }

    /// The text of a scalar field, as written (so `name: 2024` is the name "2024"); nil when absent or wrong.
    func string(_ key: String, required: Bool = false, expected: String, problems: inout FileProblems)
        -> Located<String>?
    {
        guard let node = value(key) else {
            if required { missing(key, expected: expected, problems: &problems) }
            return nil
        }
        guard case .scalar(let scalar) = node else {
            problem(key, is: "is \(Self.describe(node))", expected: expected, problems: &problems)
            return nil
        }
        return Located(value: scalar.string, line: node.mark?.line ?? line(of: key))
    }

    /// A non-blank, storable string, for names, users and queries.
    func identifier(_ key: String, required: Bool = false, expected: String, problems: inout FileProblems)
        -> Located<String>?
    {
        guard let text = string(key, required: required, expected: expected, problems: &problems) else { return nil }
        if let violation = RecordRules.nonBlankText(text.value) {
            problems.add(line: text.line, "field '\(key)' in \(owner) \(violation)")
            return nil
        }
        return text
    }

    /// A whole number in `range`, written as a plain YAML integer (`500` or `100_000`, not `"500"` or `5e2`).
    func integer(_ key: String, in range: ClosedRange<Int>, expected: String, problems: inout FileProblems) -> Int? {
        guard let node = value(key) else { return nil }
        guard case .scalar(let scalar) = node else {
            problem(key, is: "is \(Self.describe(node))", expected: expected, problems: &problems)
            return nil
        }
        guard scalar.style == .plain || scalar.style == .any else {
            problem(
                key, is: "is the quoted string \(Quote.text(scalar.string))",
                expected: "\(expected), written without quotes", problems: &problems)
            return nil
        }
        guard let number = Self.wholeNumber(scalar.string) else {
            problem(key, is: "is \(Quote.text(scalar.string))", expected: expected, problems: &problems)
            return nil
        }
        guard range.contains(number) else {
            problem(key, is: "is \(number)", expected: expected, problems: &problems)
            return nil
        }
        return number
    }

    /// One of a fixed set of words, such as `kind` or `on_bad_record`.
    func choice<Choice: RawRepresentable & CaseIterable>(
        _ key: String, required: Bool = false, problems: inout FileProblems
    ) -> Choice? where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        let expected = "one of \(names.joined(separator: ", "))"
        guard let text = string(key, required: required, expected: expected, problems: &problems) else { return nil }
        guard let choice = Choice(rawValue: text.value) else {
            problems.add(
                line: text.line,
                "field '\(key)' in \(owner) is \(Quote.text(text.value)); expected \(expected)"
                    + NameSuggestion.hint(for: text.value, among: names))
            return nil
        }
        return choice
    }

    /// `123`, `+5`, `-1`, `100_000`: decimal digits with an optional sign and `_` separators.
    private static func wholeNumber(_ text: String) -> Int? {
        Int(text.filter { $0 != "_" })
    }

    /// A YAML value as a message names it: a scalar by its text, collections by their kind.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar where node.null != nil: "empty (null)"
        case .scalar(let scalar): Quote.text(scalar.string)
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}
