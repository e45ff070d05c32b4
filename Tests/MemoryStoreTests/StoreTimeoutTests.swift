import Foundation
import MemoryStore
import Postgres
import Support
import Testing

/// The store's statement timeouts: a search or an ingest statement that outruns its timeout is cancelled by the
/// server and reported as such; the timeout stays with the call, not the connection.
@Suite struct StoreTimeoutTests {
    private static let message = MemoryMessage(
        user: "u", session: "s", position: 0, role: .user, content: "sourdough starter", createdAt: Fixtures.start)

    /// The search waits for a lock on `messages` that another connection holds, so it outlives any timeout.
    @Test func aSearchPastTheQueryTimeoutIsCancelledByTheServer() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest([Self.message], maxChunkChars: 100, on: connection)
            let bounded = MemoryStore(schema: store.schema, timeouts: StatementTimeouts(query: .milliseconds(50)))
            try await Self.whileLocked("messages", of: store) {
                await #expect(throws: MemoryStoreError.statementTimeout(.query, limit: .milliseconds(50))) {
                    try await bounded.search(user: "u", query: "sourdough", topK: 5, on: connection)
                }
            }
            #expect(try await Self.statementTimeout(on: connection) == "0")
            // With the default timeout: 50 ms could pass on a loaded machine without any lock.
            #expect(try await store.search(user: "u", query: "sourdough", topK: 5, on: connection).count == 1)
        }
    }

    @Test func anIngestPastTheIngestTimeoutIsRolledBack() async throws {
        try await TestDatabase.withStore { store, connection in
            let bounded = MemoryStore(schema: store.schema, timeouts: StatementTimeouts(ingest: .milliseconds(50)))
            try await Self.whileLocked("messages", of: store) {
                await #expect(throws: MemoryStoreError.statementTimeout(.ingest, limit: .milliseconds(50))) {
                    try await bounded.ingest([Self.message], maxChunkChars: 100, on: connection)
                }
            }
            #expect(connection.transactionStatus == .idle)
            #expect(try await Self.statementTimeout(on: connection) == "0")
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == 0)
            let result = try await store.ingest([Self.message], maxChunkChars: 100, on: connection)
            #expect(result.inserted == 1)
        }
    }

    /// A cancel that comes before the timeout could have fired (an administrator's `pg_cancel_backend`) is not
    /// reported as the timeout.
    @Test func anEarlierCancelKeepsTheServersError() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest([Self.message], maxChunkChars: 100, on: connection)
            let bounded = MemoryStore(schema: store.schema, timeouts: StatementTimeouts(query: .seconds(600)))
            try await Self.whileLocked("messages", of: store) {
                let search = Task {
                    try await bounded.search(user: "u", query: "sourdough", topK: 5, on: connection)
                }
                let admin = try await TestDatabase.connect()
                defer { admin.close() }
                var waiting = false
                for _ in 0..<3000 where !waiting {
                    waiting =
                        try await admin.query(
                            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                            [Int(connection.backendPID)]
                        ).rows[0].decode(0, as: Int.self) == 1
                    if !waiting { try await Task.sleep(for: .milliseconds(10)) }
                }
                try #require(waiting, "the search never waited for the lock")
                try await admin.query("SELECT pg_cancel_backend($1)", [Int(connection.backendPID)])
                let result = await search.result
                #expect {
                    try result.get()
                } throws: { ($0 as? PostgresServerError)?.sqlState == PostgresServerError.Code.queryCanceled }
            }
        }
    }

    /// Runs `body` while another connection holds an ACCESS EXCLUSIVE lock on `table` of the store.
    private static func whileLocked(
        _ table: String, of store: MemoryStore, _ body: () async throws -> Void
    ) async throws {
        let holder = try await TestDatabase.connect()
        defer { holder.close() }
        try await holder.execute(script: "BEGIN; LOCK TABLE \"\(store.schema)\".\(table) IN ACCESS EXCLUSIVE MODE")
        do {
            try await body()
        } catch {
            try? await holder.execute(script: "ROLLBACK")
            throw error
        }
        try await holder.execute(script: "ROLLBACK")
    }

    private static func statementTimeout(on connection: PostgresConnection) async throws -> String {
        try await connection.query("SHOW statement_timeout").rows[0].decode(0, as: String.self)
    }
}
