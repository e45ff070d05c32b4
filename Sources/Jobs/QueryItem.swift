/// One search to run against a user's memory.
public struct QueryItem: Sendable, Equatable, Codable {
    public var user: String
    public var query: String
    /// The line in the JSON Lines source or job file the query came from, for reports.
    public var line: Int

    public init(user: String, query: String, line: Int) {
        self.user = user
        self.query = query
        self.line = line
    }
}
