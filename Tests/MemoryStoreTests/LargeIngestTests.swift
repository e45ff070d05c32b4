import Foundation
import Postgres
import Testing

@testable import MemoryStore

@Suite struct LargeIngestTests {
    static let users = (0..<50).map { "user\($0)" }
    static let sessionsPerUser = 20
    static let messagesPerSession = 200
    static let batchSize = 500
    static let maxChunkChars = 500

    /// 200,000 messages, arriving the hard way for chunking: position by position across all 1,000 sessions, so
    /// every batch of 500 appends to 500 sessions that already have chunks.
    @Test func twoHundredThousandMessagesInBatchesOfFiveHundred() async throws {
        let bySession = Fixtures.conversation(
            users: Self.users, sessions: Self.sessionsPerUser, perSession: Self.messagesPerSession)
        let arrival = bySession.sorted { ($0.position, $0.user, $0.session) < ($1.position, $1.user, $1.session) }
        let batches = Fixtures.batches(arrival, size: Self.batchSize)
        #expect(arrival.count == 200_000)

        try await TestDatabase.withStore { store, connection in
            let clock = ContinuousClock()
            var total = IngestResult(inserted: 0, duplicates: 0, chunksWritten: 0)
            let elapsed = try await clock.measure {
                for batch in batches {
                    let result = try await store.ingest(batch, maxChunkChars: Self.maxChunkChars, on: connection)
                    total.inserted += result.inserted
                    total.duplicates += result.duplicates
                    total.chunksWritten += result.chunksWritten
                }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "200k ingest: \(batches.count) batches of \(Self.batchSize) in \(elapsed)"
                    + " (\(Int(Double(arrival.count) / seconds)) messages/s), \(total.chunksWritten) chunk writes")

            #expect(total.inserted == 200_000)
            #expect(total.duplicates == 0)
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == 200_000)
            let perUser = try await connection.query(
                "SELECT count(DISTINCT user_id), min(n), max(n) FROM (SELECT user_id, count(*) AS n"
                    + " FROM \"\(store.schema)\".messages GROUP BY user_id) AS t")
            #expect(try perUser.rows[0].decode((Int, Int, Int).self) == (50, 4000, 4000))

            // Chunks cover every message once, in order, without overlap.
            let coverage = try await connection.query(
                """
                SELECT sum(message_count), count(*),
                       count(*) FILTER (WHERE first_key <= previous_last)
                FROM (SELECT message_count, first_key,
                             lag(last_key) OVER (PARTITION BY user_id, session_id ORDER BY first_key, first_hash)
                                 AS previous_last
                      FROM "\(store.schema)".chunks) AS c
                """)
            let (covered, chunkCount, overlaps) = try coverage.rows[0].decode((Int, Int, Int).self)
            #expect(covered == 200_000)
            #expect(overlaps == 0)
            print("200k ingest: \(chunkCount) chunks")

            // A sample of sessions matches a from-scratch chunking of the generated messages.
            let chunks = try await TestDatabase.chunks(of: store, on: connection)
            for (user, session) in [("user0", "s0"), ("user17", "s9"), ("user49", "s19")] {
                let messages = bySession.filter { $0.user == user && $0.session == session }
                let indexes = Chunker.chunkIndexes(
                    lengths: messages.map(\.content.unicodeScalars.count), maxChars: Self.maxChunkChars)
                let expected = Dictionary(grouping: zip(indexes, messages), by: \.0)
                    .sorted { $0.key < $1.key }
                    .map { $0.value.map(\.1.content).joined(separator: "\n") }
                let stored = chunks.filter { $0.user == user && $0.session == session }.map(\.content)
                #expect(stored == expected, "\(user)/\(session)")
            }

            // Re-running a slice of the job stores nothing new.
            var again = IngestResult(inserted: 0, duplicates: 0, chunksWritten: 0)
            for batch in batches.prefix(10) {
                let result = try await store.ingest(batch, maxChunkChars: Self.maxChunkChars, on: connection)
                again.inserted += result.inserted
                again.duplicates += result.duplicates
            }
            #expect(again.inserted == 0)
            #expect(again.duplicates == 10 * Self.batchSize)
        }
    }
}
