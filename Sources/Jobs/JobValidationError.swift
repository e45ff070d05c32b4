/// Why a batch cannot run; thrown before any job starts.
///
/// It holds every problem in every file, not just the first, so one edit fixes a whole batch.
public struct JobValidationError: Error, Sendable, CustomStringConvertible {
    /// Each `file:line: message`, ordered by file (as given) and line.
    public var problems: [String]

    public init(problems: [String]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.joined(separator: "\n")
    }
}
