/// What ``MemoryStore/migrate(on:)`` did.
public struct MigrationReport: Sendable, Equatable, CustomStringConvertible {
    var schema: String
    /// Versions applied by this call, in order; empty when the schema was already up to date.
    var applied: [Int]
    /// The schema's version after the call.
    var currentVersion: Int

    public var description: String {
        applied.isEmpty
            ? "schema '\(schema)' is up to date at version \(currentVersion)"
            : "schema '\(schema)': applied version(s) \(applied.map(String.init).joined(separator: ", "));"
                + " now at version \(currentVersion)"
    }
}
