import CLibPQ

/// Owns one `PGresult` and frees it with the last reference.
///
/// `@unchecked Sendable` without a lock: libpq documents a `PGresult` as read-only after creation and safe to read
/// from any thread, and this class never writes to it.
final class ResultStorage: @unchecked Sendable {
    let result: OpaquePointer

    init(_ result: OpaquePointer) { self.result = result }

    deinit { PQclear(result) }
}

/// The outcome of one statement: its rows (in PostgreSQL's text format), their column names and the rows affected.
public struct PostgresResult: Sendable {
    let storage: ResultStorage

    /// Rows inserted, updated, deleted, copied, selected or fetched, from the command tag; 0 when the tag has none.
    public let rowsAffected: Int

    /// The command tag, e.g. `INSERT 0 3` or `SELECT 1`.
    let commandTag: String

    init(_ storage: ResultStorage) {
        self.storage = storage
        commandTag = PQcmdStatus(storage.result).map { String(cString: $0) } ?? ""
        rowsAffected = PQcmdTuples(storage.result).flatMap { Int(String(cString: $0)) } ?? 0
    }

    /// The column names, in order.
    var columns: [String] {
        (0..<PQnfields(storage.result)).map { String(cString: PQfname(storage.result, $0)) }
    }

    /// The rows, each readable with ``PostgresRow/decode(_:as:)``.
    public var rows: PostgresRows { PostgresRows(storage: storage) }
}

/// The rows of a ``PostgresResult``, decoded lazily as they are read.
public struct PostgresRows: RandomAccessCollection, Sendable {
    let storage: ResultStorage

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(PQntuples(storage.result)) }

    public subscript(position: Int) -> PostgresRow { PostgresRow(storage: storage, index: Int32(position)) }
}

/// One row of a result.
public struct PostgresRow: Sendable {
    let storage: ResultStorage
    let index: Int32

    /// Reads column `column` (0-based) as `type`; SQL NULL reads as `nil` for optionals and is an error otherwise.
    public func decode<Value: PostgresDecodable>(_ column: Int, as type: Value.Type = Value.self) throws -> Value {
        let result = storage.result
        guard column >= 0, column < Int(PQnfields(result)) else {
            throw PostgresDecodingError(
                column: "#\(column)",
                row: Int(index),
                expected: "\(Value.self)",
                value: "(no such column: the result has \(PQnfields(result)))"
            )
        }
        let field = Int32(column)
        if PQgetisnull(result, index, field) == 1 {
            if let null = Value.decodedNull { return null }
            throw decodingError(field, Value.self, text: nil)
        }
        guard let bytes = PQgetvalue(result, index, field) else { throw decodingError(field, Value.self, text: nil) }
        let text = UnsafeRawBufferPointer(start: bytes, count: Int(PQgetlength(result, index, field)))
        guard let value = Value.decode(postgresText: text) else {
            throw decodingError(field, Value.self, text: String(decoding: text, as: UTF8.self))
        }
        return value
    }

    /// Reads the column named `name` as `type`.
    public func decode<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws -> Value {
        // PQfnumber folds unquoted names to lower case, as SQL does; quoting keeps the name exact.
        let number = PQfnumber(storage.result, "\"" + name.replacing("\"", with: "\"\"") + "\"")
        guard number >= 0 else {
            throw PostgresDecodingError(
                column: name,
                row: Int(index),
                expected: "\(Value.self)",
                value: "(no such column)"
            )
        }
        return try decode(Int(number), as: type)
    }

    /// Reads the first columns as the given types, in order: `let (id, name) = try row.decode((Int, String).self)`.
    public func decode<each Value: PostgresDecodable>(_ types: (repeat each Value).Type) throws -> (repeat each Value) {
        var column = 0
        func next<Next: PostgresDecodable>(_ type: Next.Type) throws -> Next {
            defer { column += 1 }
            return try decode(column, as: type)
        }
        return (repeat try next((each Value).self))
    }

    private func decodingError<Value>(_ field: Int32, _ type: Value.Type, text: String?) -> PostgresDecodingError {
        PostgresDecodingError(
            column: String(cString: PQfname(storage.result, field)),
            row: Int(index),
            expected: "\(Value.self)",
            value: text
        )
    }
}
