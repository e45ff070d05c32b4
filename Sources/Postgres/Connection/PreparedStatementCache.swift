import CLibPQ

/// The statements prepared on one connection and the names they were given. Part of the state the claim holder owns
/// (rule 1 of ``PostgresConnection``'s threads and locks).
struct PreparedStatementCache {
    /// Prepared statements kept per connection; past this, statements run unnamed rather than grow without bound.
    static let limit = 256

    private var names: [StatementSignature: String] = [:]
    /// How many statement names were given out (see ``newName()``).
    private var named = 0

    /// The name of the statement prepared for `signature`, if it was.
    func name(for signature: StatementSignature) -> String? { names[signature] }

    /// Whether another statement may be prepared while `pending` more are being prepared but not yet recorded.
    func hasRoom(besides pending: Int = 0) -> Bool { names.count + pending < Self.limit }

    /// A statement name never given before on this connection: names come from a counter rather than the number of
    /// statements prepared, because a prepare that failed in a pipeline is not recorded, while later ones may be.
    mutating func newName() -> String {
        named += 1
        return "mw\(named)"
    }

    /// Records that the server prepared `signature` as `name`.
    mutating func record(_ name: String, for signature: StatementSignature) {
        names[signature] = name
    }
}

/// What a prepared statement is looked up by, on every statement: the fields themselves, not a string built from
/// them, so a lookup allocates nothing.
struct StatementSignature: Hashable {
    var sql: String
    var types: [Oid]
}
