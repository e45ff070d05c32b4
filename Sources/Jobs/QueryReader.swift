import Foundation

/// Streams the queries of a JSON Lines query source, one object per line: `{"user": "alice", "query": "..."}`,
/// where `user` may be left out when the job names a default user.
///
/// Read a block at a time while iterating, like `MessageReader`; each element is a query or a `BadRecord` with its
/// line and reason. Blank lines are skipped and other fields are ignored; overlong lines and read errors are
/// handled as in `MessageReader`.
public struct QueryReader: Sequence, Sendable {
    private let file: OpenFile
    private let defaultUser: String?
    private let limits: QueryLimits

    /// Opens the file; throws when it cannot be opened or is not a regular file. `defaultUser` is the job's
    /// `user`, used for lines without one; a query longer than `limits` allow is a bad record.
    public init(url: URL, defaultUser: String?, limits: QueryLimits = QueryLimits()) throws(SourceFileError) {
        file = try OpenFile(url: url)
        self.defaultUser = defaultUser
        self.limits = limits
    }

    /// How far iterating has read the file.
    public var progress: SourceProgress { file.progress }

    public func makeIterator() -> Iterator {
        Iterator(file: file, defaultUser: defaultUser, limits: limits)
    }

    public struct Iterator: IteratorProtocol {
        private var lines: JSONLinesReader
        private let path: String
        private let defaultUser: String?
        private let limits: QueryLimits

        init(file: OpenFile, defaultUser: String?, limits: QueryLimits) {
            lines = JSONLinesReader(file: file)
            path = file.path
            self.defaultUser = defaultUser
            self.limits = limits
        }

        public mutating func next() -> Result<QueryItem, BadRecord>? {
            let (path, defaultUser, limits) = (path, defaultUser, limits)
            return lines.next { line -> Result<QueryItem, BadRecord> in
                switch line {
                case .unreadable(let bad):
                    return .failure(bad)
                case .text(let number, let bytes):
                    let query = QueryRecord.decode(bytes, line: number, defaultUser: defaultUser, limits: limits)
                    return query.mapError { violation in
                        BadRecord(file: path, line: number, reason: violation.text)
                    }
                }
            }
        }
    }
}

/// A query from one JSON Lines record, checked by the same rules as a query written in a job file.
enum QueryRecord {
    static func decode(
        _ bytes: UnsafeRawBufferPointer, line: Int, defaultUser: String?, limits: QueryLimits
    ) -> Result<QueryItem, RuleViolation> {
        let record: JSONRecord
        switch JSONRecord.parse(bytes) {
        case .success(let parsed): record = parsed
        case .failure(let violation): return .failure(RuleViolation("line \(violation.text)"))
        }
        do throws(RuleViolation) {
            guard let user = try record.optionalString("user", expected: "a non-empty string").get() ?? defaultUser
            else {
                throw RuleViolation(
                    "field 'user' is missing; expected a string naming the user (the job has no 'user' to fall back on)"
                )
            }
            if let problem = RecordRules.nonBlankText(user) { throw RuleViolation("field 'user' \(problem)") }
            let query = try record.string("query", expected: "a non-empty string").get()
            if let problem = RecordRules.queryText(query, limits: limits) {
                throw RuleViolation("field 'query' \(problem)")
            }
            return .success(QueryItem(user: user, query: query, line: line))
        } catch {
            return .failure(error)
        }
    }
}
