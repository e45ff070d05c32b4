import Foundation
import Testing

@testable import Postgres

@Suite struct ValueTests {
    private func roundTrip<Value: PostgresEncodable & PostgresDecodable>(
        _ value: Value,
        as sqlType: String,
        connection: PostgresConnection
    ) async throws -> Value {
        try await connection.query("SELECT $1::\(sqlType)", [value]).rows[0].decode(0, as: Value.self)
    }

    @Test func everySupportedTypeRoundTrips() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        for value in [0, 1, -1, Int.max, Int.min] {
            #expect(try await roundTrip(value, as: "int8", connection: connection) == value)
        }
        for value in [Int32.max, Int32.min] {
            #expect(try await roundTrip(value, as: "int4", connection: connection) == value)
        }
        #expect(try await roundTrip(Int64.min, as: "bigint", connection: connection) == Int64.min)
        for value in [0.0, -0.0, 1.5, -2.25e-300, 1.7976931348623157e308, .infinity, -.infinity, 0.1] {
            #expect(try await roundTrip(value, as: "float8", connection: connection) == value)
        }
        #expect(try await roundTrip(Double.nan, as: "float8", connection: connection).isNaN)
        #expect(try await roundTrip(true, as: "bool", connection: connection) == true)
        #expect(try await roundTrip(false, as: "bool", connection: connection) == false)
        let texts = [
            "", "plain", "ünïcødé 日本語 🧠", "quote ' double \" back \\ percent % under _", "tab\tnew\nline\r",
            "'; DROP TABLE x; --", String(repeating: "large text ", count: 200_000),
        ]
        for text in texts {
            #expect(try await roundTrip(text, as: "text", connection: connection) == text)
        }
        let bytes: [UInt8] = [0, 1, 0, 255, 92, 39, 0]
        #expect(try await roundTrip(bytes, as: "bytea", connection: connection) == bytes)
        #expect(try await roundTrip([UInt8](), as: "bytea", connection: connection) == [])
        #expect(try await roundTrip(Data(bytes), as: "bytea", connection: connection) == Data(bytes))
        let large = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(try await roundTrip(large, as: "bytea", connection: connection) == large)
        for seconds in [0.0, 1_700_000_000.123456, -86_400.5, 4_102_444_800.000001] {
            let date = Date(timeIntervalSince1970: seconds)
            let back = try await roundTrip(date, as: "timestamptz", connection: connection)
            #expect(abs(back.timeIntervalSince1970 - seconds) < 0.000_001)
        }
        let array = TextArray(["a", "b,c", "d \"e\"", "", nil, "NULL", "ü"])
        #expect(try await roundTrip(array, as: "text[]", connection: connection) == array)
    }

    @Test func timestampsReadTheSameInAnyServerTimeZone() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        try await connection.execute(script: "SET TimeZone TO 'Asia/Kolkata'")
        let date = try await connection.query("SELECT '2024-05-01 12:30:00+00'::timestamptz").rows[0]
            .decode(0, as: Date.self)
        #expect(date.timeIntervalSince1970 == 1_714_566_600)
    }

    @Test func nullIsNilForOptionalsAndAnErrorOtherwise() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let row = try await connection.query(
            "SELECT $1::int8, $2::text, $3::bytea, $4::timestamptz, $5::bool, $6::float8, $7::text[]",
            [nil, nil, nil, nil, nil, nil, nil]
        ).rows[0]
        let values = try row.decode((Int?, String?, [UInt8]?, Date?, Bool?, Double?, TextArray?).self)
        #expect(values.0 == nil && values.1 == nil && values.2 == nil && values.3 == nil)
        #expect(values.4 == nil && values.5 == nil && values.6 == nil)
        #expect(throws: PostgresDecodingError.self) { try row.decode(0, as: Int.self) }
        let empty = try await connection.query("SELECT $1::text", [""]).rows[0].decode(0, as: String?.self)
        #expect(empty == "")
    }

    @Test func rowsDecodeByPositionNameAndTuple() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let result = try await connection.query(
            "SELECT n AS \"Number\", 'row ' || n AS label FROM generate_series(1, 3) AS n"
        )
        #expect(result.columns == ["Number", "label"])
        #expect(result.rows.count == 3)
        #expect(try result.rows[2].decode("Number", as: Int.self) == 3)
        let (number, label) = try result.rows[1].decode((Int, String).self)
        #expect(number == 2 && label == "row 2")
        #expect(throws: PostgresDecodingError.self) { try result.rows[0].decode(1, as: Int.self) }
        #expect(throws: PostgresDecodingError.self) { try result.rows[0].decode("missing", as: Int.self) }
        #expect(throws: PostgresDecodingError.self) { try result.rows[0].decode(5, as: Int.self) }
    }

    @Test func rowsAffectedComesFromTheCommandTag() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let table = TestDatabase.uniqueName("mw_rows")
        try await connection.execute(script: "CREATE TEMP TABLE \(table) (n int)")
        let inserted = try await connection.query("INSERT INTO \(table) SELECT generate_series(1, $1::int)", [5])
        #expect(inserted.rowsAffected == 5)
        #expect(inserted.commandTag == "INSERT 0 5")
        #expect(try await connection.query("UPDATE \(table) SET n = n + 1 WHERE n > $1", [2]).rowsAffected == 3)
        #expect(try await connection.query("DELETE FROM \(table) WHERE n = $1", [2]).rowsAffected == 1)
        #expect(try await connection.query("SELECT * FROM \(table)").rowsAffected == 4)
        #expect(try await connection.query("CREATE TEMP TABLE \(table)_b (n int)").rowsAffected == 0)
    }

    @Test func textWithNULIsRefusedBeforeSending() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        await #expect {
            try await connection.query("SELECT $1::text", ["a\u{0}b"])
        } throws: { ($0 as? PostgresConnectionError)?.kind == .invalidParameter }
        #expect(try await connection.query("SELECT 1").rows.count == 1)
    }
}
