/// Small questions and locks that the store, the queue and the batch lock each ask of the server before DDL.
extension PostgresConnection {
    /// Whether the relation `name` (a table or an index; schema-qualified and quoted as in SQL) exists. Found
    /// without DDL, so a role that may not create it can still learn that it is there.
    public func relationExists(_ name: String) async throws -> Bool {
        try await query("SELECT to_regclass($1::text) IS NOT NULL", [name]).rows.first?.decode(0, as: Bool.self)
            == true
    }

    /// Waits for the advisory lock keyed by `name` (hashed on the server) and holds it until the transaction ends, so
    /// that two connections creating the same objects queue up instead of one failing on the catalog's unique index.
    public func lockUntilTransactionEnds(_ name: String) async throws {
        try await query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", [name])
    }
}
