import Foundation

/// Streams the messages of a JSON Lines ingest source, one object per line:
/// `{"id": "m1", "user": "alice", "session": "s1", "role": "user", "content": "Hi", "created_at": "2024-05-01T12:00:00Z"}`
/// (`id` and `created_at` optional; `id` a string or a whole number).
///
/// The file is read a block at a time while iterating, so sources of any size use little memory. Each element is a
/// message, or a `BadRecord` saying which line is wrong and why; blank lines are skipped. A message's position is
/// its line's index in the file (blank and bad lines counted), so it depends on no other line: fixing a bad record
/// or appending lines later moves no message. Fields other than the six above are ignored, so exports with extra
/// fields (metadata) can be used as they are. Iterating twice reads the file twice, from the top. A line over 64 MiB
/// is a bad record; a read error (an I/O failure, not a bad line) is handed out as a last `BadRecord` whose reason
/// says the rest was not read.
public struct MessageReader: Sequence, Sendable {
    private let file: OpenFile

    /// Opens the file; throws when it cannot be opened or is not a regular file. Its content is checked only
    /// while iterating.
    public init(url: URL) throws(SourceFileError) {
        file = try OpenFile(url: url)
    }

    /// How far iterating has read the file.
    public var progress: SourceProgress { file.progress }

    public func makeIterator() -> Iterator {
        Iterator(file: file)
    }

    public struct Iterator: IteratorProtocol {
        private var lines: JSONLinesReader
        private let path: String

        init(file: OpenFile) {
            lines = JSONLinesReader(file: file)
            path = file.path
        }

        public mutating func next() -> Result<Message, BadRecord>? {
            let path = path
            return lines.next { line -> Result<Message, BadRecord> in
                switch line {
                case .unreadable(let bad):
                    return .failure(bad)
                case .text(let number, let bytes):
                    return MessageRecord.decode(bytes, line: number).mapError { violation in
                        BadRecord(file: path, line: number, reason: violation.text)
                    }
                }
            }
        }
    }
}

/// A message from one JSON Lines record, checked by the same rules as a message written in a job file.
enum MessageRecord {
    /// The message on line `line` (from 1), or the first thing wrong with it.
    static func decode(_ bytes: UnsafeRawBufferPointer, line: Int) -> Result<Message, RuleViolation> {
        let record: JSONRecord
        switch JSONRecord.parse(bytes) {
        case .success(let parsed): record = parsed
        case .failure(let violation): return .failure(RuleViolation("line \(violation.text)"))
        }
        do throws(RuleViolation) {
            var id: String?
            if let text = try record.optionalStringOrInteger("id", expected: RecordRules.idExpected).get() {
                if let problem = RecordRules.nonBlankText(text) { throw field("id", problem) }
                id = text
            }
            let user = try identifier(record, "user")
            let session = try identifier(record, "session")
            let roleText = try record.string("role", expected: "one of \(RecordRules.roles)").get()
            let role = try RecordRules.role(roleText).mapError { field("role", $0) }.get()
            let content = try record.string("content", expected: "a string").get()
            if let problem = RecordRules.storableText(content) { throw field("content", problem) }
            var createdAt: Date?
            if let text = try record.optionalString("created_at", expected: RFC3339.example).get() {
                createdAt = try RecordRules.createdAt(text).mapError { field("created_at", $0) }.get()
            }
            return .success(
                Message(
                    user: user, session: session, position: line - 1, id: id, role: role, content: content,
                    createdAt: createdAt, line: line))
        } catch {
            return .failure(error)
        }
    }

    private static func identifier(_ record: JSONRecord, _ key: String) throws(RuleViolation) -> String {
        let value = try record.string(key, expected: "a non-empty string").get()
        if let problem = RecordRules.nonBlankText(value) { throw field(key, problem) }
        return value
    }

    private static func field(_ key: String, _ problem: String) -> RuleViolation {
        RuleViolation("field '\(key)' \(problem)")
    }

    private static func field(_ key: String, _ violation: RuleViolation) -> RuleViolation {
        field(key, violation.text)
    }
}
