import Foundation
import Testing

@testable import Postgres

@Suite struct CopyTests {
    @Test func copiesOneHundredThousandRows() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let table = TestDatabase.uniqueName("mw_copy")
        try await connection.execute(
            script: "CREATE TEMP TABLE \(table) (id int8, body text, payload bytea, at timestamptz, note text)"
        )
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let copied = try await connection.copyFrom("COPY \(table) FROM STDIN") { writer in
            for id in 0..<100_000 {
                try await writer.writeRow([
                    id, "row \(id)\twith\ttabs\\and\nnewlines", [UInt8(id % 256), 0],
                    start.addingTimeInterval(Double(id)),
                    id % 10 == 0 ? nil : "note",
                ])
            }
        }
        #expect(copied == 100_000)
        let summary = try await connection.query(
            """
            SELECT count(*), sum(id), count(*) FILTER (WHERE body = 'row ' || id || E'\\twith\\ttabs\\\\and\\nnewlines'),
                   count(*) FILTER (WHERE note IS NULL), count(*) FILTER (WHERE payload = set_byte('\\x0000'::bytea, 0, (id % 256)::int)),
                   max(at)
            FROM \(table)
            """
        ).rows[0]
        let (count, sum, bodies, nulls, payloads, latest) = try summary.decode((Int, Int, Int, Int, Int, Date).self)
        #expect(count == 100_000)
        #expect(sum == 4_999_950_000)
        #expect(bodies == 100_000)
        #expect(nulls == 10_000)
        #expect(payloads == 100_000)
        #expect(latest == start.addingTimeInterval(99_999))
    }

    @Test func aFailingProducerAbortsTheCopyAndKeepsTheConnection() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let table = TestDatabase.uniqueName("mw_copy_abort")
        try await connection.execute(script: "CREATE TEMP TABLE \(table) (n int)")
        struct ProducerFailed: Error {}
        await #expect(throws: ProducerFailed.self) {
            try await connection.copyFrom("COPY \(table) FROM STDIN") { writer in
                for n in 0..<50_000 { try await writer.writeRow([n]) }
                throw ProducerFailed()
            }
        }
        #expect(connection.transactionStatus == .idle)
        #expect(try await connection.query("SELECT count(*) FROM \(table)").rows[0].decode(0, as: Int.self) == 0)
    }

    @Test func badDataIsTheServersError() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let table = TestDatabase.uniqueName("mw_copy_bad")
        try await connection.execute(script: "CREATE TEMP TABLE \(table) (n int)")
        await #expect {
            try await connection.copyFrom("COPY \(table) FROM STDIN") { writer in
                try await writer.writeRow(["not a number"])
            }
        } throws: { ($0 as? PostgresServerError)?.sqlState == "22P02" }
        await #expect(throws: PostgresConnectionError.self) {
            try await connection.copyFrom("SELECT 1") { _ in }
        }
        #expect(try await connection.query("SELECT 1").rows.count == 1)
    }
}
