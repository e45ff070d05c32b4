/// A schema or text-search configuration name that is safe to splice into SQL text.
///
/// DDL cannot take bound parameters, so the store's schema name and text-search configuration end up inside SQL text.
/// Rather than trust an escaping rule, only plain lower-case identifiers are accepted (`[a-z_][a-z0-9_]*`, at most 63
/// bytes, PostgreSQL's identifier limit): such a name means the same quoted or unquoted, and cannot end a literal or
/// an identifier early. Quoting is still applied, so a reserved word such as `user` works as a schema name.
struct SQLName: Sendable, Hashable, CustomStringConvertible {
    /// What the name is for, used in error messages.
    enum Kind: String, Sendable {
        case schema = "schema name"
        case textSearchConfig = "text search configuration"
    }

    /// PostgreSQL truncates identifiers longer than this many bytes (`NAMEDATALEN - 1`).
    static let maximumLength = 63

    /// The name as given.
    let name: String

    init(_ name: String, kind: Kind) throws(MemoryStoreError) {
        guard Self.isPlainIdentifier(name) else { throw .invalidName(kind: kind.rawValue, value: name) }
        self.name = name
    }

    /// The default schema, `memory`.
    static let defaultSchema = SQLName(trusted: "memory")

    /// For names written in this module's source, which are plain identifiers by inspection.
    private init(trusted name: String) {
        self.name = name
    }

    /// `"name"`: the name as a quoted SQL identifier.
    var identifier: String { "\"" + name.replacing("\"", with: "\"\"") + "\"" }

    /// `'name'`: the name as a SQL string literal, e.g. for a `regconfig` constant.
    var literal: String { "'" + name.replacing("'", with: "''") + "'" }

    var description: String { name }

    /// Whether `text` matches `[a-z_][a-z0-9_]*` and fits PostgreSQL's identifier length.
    static func isPlainIdentifier(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= maximumLength else { return false }
        func isLetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || byte == UInt8(ascii: "_")
        }
        func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        return isLetter(first) && bytes.dropFirst().allSatisfy { isLetter($0) || isDigit($0) }
    }
}
