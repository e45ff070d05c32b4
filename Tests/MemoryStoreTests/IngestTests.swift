import Foundation
import Postgres
import Testing

@testable import MemoryStore

@Suite struct IngestTests {
    static let users = ["ada", "bob", "cy"]

    @Test func messagesAreChunkedInPositionOrderWithinTheBudget() async throws {
        try await TestDatabase.withStore { store, connection in
            let messages = [
                MemoryMessage(user: "u", session: "s", position: 2, role: .assistant, content: "cccc"),
                MemoryMessage(user: "u", session: "s", position: 0, role: .user, content: "aaaa"),
                MemoryMessage(user: "u", session: "s", position: 1, role: .user, content: "bbbb"),
                MemoryMessage(
                    user: "u", session: "s", position: 3, role: .user, content: String(repeating: "d", count: 30)),
                MemoryMessage(user: "u", session: "t", position: 0, role: .system, content: "other session"),
            ]
            let result = try await store.ingest(messages, maxChunkChars: 10, on: connection)
            #expect(result == IngestResult(inserted: 5, duplicates: 0, chunksWritten: 4))
            let chunks = try await TestDatabase.chunks(of: store, on: connection)
            #expect(
                chunks.map(\.content) == ["aaaa\nbbbb", "cccc", String(repeating: "d", count: 30), "other session"])
            let keys = messages.map { $0.orderKey.postgresParameter.textForm }
            #expect(chunks.map(\.first) == [keys[1], keys[0], keys[3], keys[4]])
            #expect(chunks.map(\.last) == [keys[2], keys[0], keys[3], keys[4]])
            #expect(chunks.map(\.messageCount) == [2, 1, 1, 1])
        }
    }

    @Test func aChunkIsDatedByItsLatestMessage() async throws {
        try await TestDatabase.withStore { store, connection in
            let early = Fixtures.start
            let late = Fixtures.start.addingTimeInterval(3600.25)
            let messages = [
                MemoryMessage(user: "u", session: "s", position: 0, role: .user, content: "one", createdAt: late),
                MemoryMessage(user: "u", session: "s", position: 1, role: .user, content: "two", createdAt: early),
                MemoryMessage(user: "u", session: "t", position: 0, role: .user, content: "undated"),
            ]
            let before = try await connection.query("SELECT now()").rows[0].decode(0, as: Date.self)
            try await store.ingest(messages, maxChunkChars: 100, on: connection)
            let chunks = try await TestDatabase.chunks(of: store, on: connection)
            #expect(chunks.count == 2)
            #expect(chunks.first?.createdAt == late)
            // Without message times, the ingest time stands in.
            #expect((chunks.last?.createdAt ?? .distantPast) >= before)
        }
    }

    @Test func reRunningTheSameBatchAddsNothing() async throws {
        try await TestDatabase.withStore { store, connection in
            let messages = Fixtures.conversation(users: Self.users, sessions: 3, perSession: 20)
            let first = try await store.ingest(messages, maxChunkChars: 200, on: connection)
            #expect(first.inserted == messages.count)
            #expect(first.duplicates == 0)
            let chunksBefore = try await TestDatabase.chunks(of: store, on: connection)
            let idsBefore = try await chunkIDs(store, connection)

            let second = try await store.ingest(messages, maxChunkChars: 200, on: connection)
            #expect(second == IngestResult(inserted: 0, duplicates: messages.count, chunksWritten: 0))
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == messages.count)
            #expect(try await TestDatabase.chunks(of: store, on: connection) == chunksBefore)
            #expect(try await chunkIDs(store, connection) == idsBefore)
        }
    }

    @Test func duplicatesWithinOneBatchAreStoredOnce() async throws {
        try await TestDatabase.withStore { store, connection in
            let message = MemoryMessage(user: "u", session: "s", position: 0, role: .user, content: "twice")
            let sameSpotOtherText = MemoryMessage(user: "u", session: "s", position: 0, role: .user, content: "other")
            let result = try await store.ingest(
                [message, message, sameSpotOtherText], maxChunkChars: 5, on: connection)
            #expect(result == IngestResult(inserted: 2, duplicates: 1, chunksWritten: 2))
            // Same position: ordered by content hash, deterministically.
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == 2)
        }
    }

    /// One batch that fills in before a session's last stored message (INSERT ... ON CONFLICT) and appends after it
    /// (COPY), with duplicates on both sides: each message is stored once, and the chunks are those of one batch.
    @Test func aBatchThatFillsInAndAppendsStoresEachMessageOnce() async throws {
        func message(_ position: Int, _ content: String) -> MemoryMessage {
            MemoryMessage(
                user: "u", session: "s", position: position, role: .user, content: content,
                createdAt: Fixtures.start.addingTimeInterval(Double(position)))
        }
        let everything =
            [message(0, "a"), message(1, "b"), message(2, "c"), message(3, "d"), message(4, "e")]
            + [message(4, "f")]
        let reference = try await TestDatabase.withStore { store, connection in
            try await store.ingest(everything, maxChunkChars: 3, on: connection)
            return try await TestDatabase.chunks(of: store, on: connection)
        }
        try await TestDatabase.withStore { store, connection in
            try await store.ingest([message(1, "b"), message(3, "d")], maxChunkChars: 3, on: connection)
            let result = try await store.ingest(
                [message(4, "e"), message(0, "a"), message(4, "e"), message(3, "d"), message(4, "f"), message(2, "c")],
                maxChunkChars: 3, on: connection)
            #expect(result.inserted == 4)
            #expect(result.duplicates == 2)
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == everything.count)
            #expect(try await TestDatabase.chunks(of: store, on: connection) == reference)
        }
    }

    @Test func messagesSharingAPositionAreChunkedOnceWhenASessionGrows() async throws {
        // Budget 5: "aa" and the first of the two position-1 messages (by content hash) fill a chunk, so a chunk
        // starts at the second position-1 message. Appending must resume there, not at position 1 as a whole.
        let at = Fixtures.start
        let first = [
            MemoryMessage(user: "u", session: "s", position: 0, role: .user, content: "aa", createdAt: at),
            MemoryMessage(user: "u", session: "s", position: 1, role: .user, content: "bb", createdAt: at),
            MemoryMessage(user: "u", session: "s", position: 1, role: .user, content: "cc", createdAt: at),
        ]
        let later = [MemoryMessage(user: "u", session: "s", position: 2, role: .user, content: "d", createdAt: at)]
        let reference = try await TestDatabase.withStore { store, connection in
            try await store.ingest(first + later, maxChunkChars: 5, on: connection)
            return try await TestDatabase.chunks(of: store, on: connection)
        }
        #expect(reference.map(\.messageCount) == [2, 2])
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(first, maxChunkChars: 5, on: connection)
            try await store.ingest(later, maxChunkChars: 5, on: connection)
            #expect(try await TestDatabase.chunks(of: store, on: connection) == reference)
        }
    }

    @Test(arguments: [1, 7, Int.max])
    func batchSizesDoNotChangeTheChunks(batchSize: Int) async throws {
        let messages = Fixtures.conversation(users: Self.users, sessions: 2, perSession: 40)
        let reference = try await TestDatabase.withStore { store, connection in
            try await store.ingest(messages, maxChunkChars: 150, on: connection)
            return try await TestDatabase.chunks(of: store, on: connection)
        }
        try await TestDatabase.withStore { store, connection in
            var total = IngestResult(inserted: 0, duplicates: 0, chunksWritten: 0)
            for batch in Fixtures.batches(messages, size: min(batchSize, messages.count)) {
                let result = try await store.ingest(batch, maxChunkChars: 150, on: connection)
                total.inserted += result.inserted
                total.duplicates += result.duplicates
            }
            #expect(total.inserted == messages.count)
            #expect(total.duplicates == 0)
            #expect(try await TestDatabase.chunks(of: store, on: connection) == reference)
        }
    }

    @Test func batchOrderDoesNotChangeTheChunks() async throws {
        let messages = Fixtures.conversation(users: Self.users, sessions: 2, perSession: 40)
        let reference = try await TestDatabase.withStore { store, connection in
            try await store.ingest(messages, maxChunkChars: 150, on: connection)
            return try await TestDatabase.chunks(of: store, on: connection)
        }
        var generator = SplitMix64(seed: 3)
        // Reversed, shuffled, and with messages inserted into the middle of existing chunks.
        let orders = [
            Fixtures.batches(messages, size: 7).reversed().map { $0 },
            Fixtures.batches(messages.shuffled(using: &generator), size: 5),
            Fixtures.batches(
                messages.filter { $0.position % 3 != 0 } + messages.filter { $0.position % 3 == 0 }, size: 11),
        ]
        for batches in orders {
            try await TestDatabase.withStore { store, connection in
                for batch in batches { try await store.ingest(batch, maxChunkChars: 150, on: connection) }
                #expect(try await TestDatabase.chunks(of: store, on: connection) == reference)
                #expect(try await TestDatabase.chunkVectorsMismatchingText(of: store, on: connection) == 0)
            }
        }
    }

    @Test func concurrentBatchesOnSharedSessionsGiveTheSameChunks() async throws {
        let messages = Fixtures.conversation(users: Self.users, sessions: 2, perSession: 60)
        let reference = try await TestDatabase.withStore { store, connection in
            try await store.ingest(messages, maxChunkChars: 150, on: connection)
            return try await TestDatabase.chunks(of: store, on: connection)
        }
        var generator = SplitMix64(seed: 11)
        let batches = Fixtures.batches(messages.shuffled(using: &generator), size: 9)
        try await TestDatabase.withStore { store, connection in
            let inserted = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        let own = try await TestDatabase.connect()
                        defer { own.close() }
                        var inserted = 0
                        // Every worker ingests every fourth batch, and then all of them again: overlapping sessions
                        // and duplicates racing each other.
                        for (index, batch) in batches.enumerated() where index % 4 == worker {
                            inserted += try await store.ingest(batch, maxChunkChars: 150, on: own).inserted
                        }
                        for batch in batches.shuffled() {
                            inserted += try await store.ingest(batch, maxChunkChars: 150, on: own).inserted
                        }
                        return inserted
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(inserted == messages.count)
            #expect(try await TestDatabase.chunks(of: store, on: connection) == reference)
        }
    }

    @Test func anInterruptedJobReRunStoresEveryMessageOnce() async throws {
        let messages = Fixtures.conversation(users: Self.users, sessions: 3, perSession: 30)
        let batches = Fixtures.batches(messages, size: 25)
        let reference = try await TestDatabase.withStore { store, connection in
            try await store.ingest(messages, maxChunkChars: 180, on: connection)
            return try await TestDatabase.chunks(of: store, on: connection)
        }
        try await TestDatabase.withStore { store, connection in
            // The first half committed, then the job stopped.
            let half = batches.count / 2
            for batch in batches[..<half] { try await store.ingest(batch, maxChunkChars: 180, on: connection) }
            var total = IngestResult(inserted: 0, duplicates: 0, chunksWritten: 0)
            for batch in batches {
                let result = try await store.ingest(batch, maxChunkChars: 180, on: connection)
                total.inserted += result.inserted
                total.duplicates += result.duplicates
            }
            let firstHalf = batches[..<half].reduce(0) { $0 + $1.count }
            #expect(total.inserted == messages.count - firstHalf)
            #expect(total.duplicates == firstHalf)
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == messages.count)
            #expect(try await TestDatabase.chunks(of: store, on: connection) == reference)
        }
    }

    @Test func aCancelledJobLeavesWholeBatchesAndAReRunCompletesIt() async throws {
        let messages = Fixtures.conversation(users: Self.users, sessions: 4, perSession: 100)
        let batches = Fixtures.batches(messages, size: 40)
        let reference = try await TestDatabase.withStore { store, connection in
            try await store.ingest(messages, maxChunkChars: 180, on: connection)
            return try await TestDatabase.chunks(of: store, on: connection)
        }
        try await TestDatabase.withStore { store, connection in
            let job = Task {
                let own = try await TestDatabase.connect()
                defer { own.close() }
                for batch in batches { try await store.ingest(batch, maxChunkChars: 180, on: own) }
            }
            try await Task.sleep(for: .milliseconds(30))
            job.cancel()
            _ = await job.result
            // Whatever was cut off was rolled back as a whole: stored messages are whole batches.
            let stored = try await TestDatabase.count("messages", in: store, on: connection)
            #expect(stored % 40 == 0)
            for batch in batches { try await store.ingest(batch, maxChunkChars: 180, on: connection) }
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == messages.count)
            #expect(try await TestDatabase.chunks(of: store, on: connection) == reference)
        }
    }

    @Test func anotherBudgetReChunksTheWholeSession() async throws {
        try await TestDatabase.withStore { store, connection in
            let messages = (0..<6).map {
                MemoryMessage(user: "u", session: "s", position: $0, role: .user, content: "word\($0)")
            }
            try await store.ingest(Array(messages[..<5]), maxChunkChars: 5, on: connection)
            try await store.ingest([messages[5]], maxChunkChars: 100, on: connection)
            let chunks = try await TestDatabase.chunks(of: store, on: connection)
            #expect(chunks.map(\.content) == [messages.map(\.content).joined(separator: "\n")])
        }
    }

    /// Records are checked where they are read (the job reader); the store holds no second copy of those rules, but
    /// what the database cannot hold is refused with nothing of the batch stored: a role is a `Role`, valid by its
    /// type; text with NUL is never sent; a position outside the column's range breaks its type or CHECK constraint;
    /// a time the order key cannot hold is refused before anything is sent.
    @Test func whatTheDatabaseCannotHoldIsRefusedWithNothingStored() async throws {
        try await TestDatabase.withStore { (store: MemoryStore, connection: PostgresConnection) async throws in
            let good = MemoryMessage(user: "u", session: "s", position: 0, role: .user, content: "fine")
            let unsendable: [(MemoryMessage, String)] = [
                (MemoryMessage(user: "u", session: "s", position: 1, role: .user, content: "a\u{0}b"), "NUL"),
                (MemoryMessage(user: "u", session: "s", position: -1, role: .user, content: "x"), "23514"),
                (
                    MemoryMessage(user: "u", session: "s", position: Int(Int32.max) + 1, role: .user, content: "x"),
                    "22003"
                ),
            ]
            for (bad, reason) in unsendable {
                let error = await #expect(throws: (any Error).self) {
                    try await store.ingest([good, bad], maxChunkChars: 100, on: connection)
                }
                #expect("\(error.map { "\($0)" } ?? "")".contains(reason), "\(error.map { "\($0)" } ?? "")")
            }
            for seconds in [Double.nan, .infinity, 1e300] {
                let bad = MemoryMessage(
                    user: "u", session: "s", position: 1, role: .user, content: "x",
                    createdAt: Date(timeIntervalSince1970: seconds))
                await #expect(
                    throws: MemoryStoreError.invalidMessage(
                        index: 1, reason: "createdAt is outside the times PostgreSQL can store")
                ) {
                    try await store.ingest([good, bad], maxChunkChars: 100, on: connection)
                }
            }
            await #expect(throws: MemoryStoreError.invalidChunkSize(0)) {
                try await store.ingest([good], maxChunkChars: 0, on: connection)
            }
            #expect(try await TestDatabase.count("messages", in: store, on: connection) == 0)
            #expect(try await store.ingest([], maxChunkChars: 10, on: connection).inserted == 0)
            #expect(try await store.ingest([good], maxChunkChars: 10, on: connection).inserted == 1)
        }
    }

    @Test func textSurvivesExactly() async throws {
        try await TestDatabase.withStore { store, connection in
            let tricky = "quote ' double \" backslash \\ tab \t newline \n brace { } comma , NULL emoji 🧠 é"
            let message = MemoryMessage(user: "ü'ser\"{x}", session: "NULL", position: 0, role: .tool, content: tricky)
            try await store.ingest([message], maxChunkChars: 1000, on: connection)
            let row = try await connection.query(
                "SELECT user_id, session_id, content FROM \"\(store.schema)\".messages"
            ).rows[0]
            let (user, session, content) = try row.decode((String, String, String).self)
            #expect(user == message.user)
            #expect(session == "NULL")
            #expect(content == tricky)
            #expect(try await TestDatabase.chunks(of: store, on: connection).map(\.content) == [tricky])
        }
    }

    private func chunkIDs(_ store: MemoryStore, _ connection: PostgresConnection) async throws -> [Int] {
        try await connection.query("SELECT id FROM \"\(store.schema)\".chunks ORDER BY id").rows.map {
            try $0.decode(0, as: Int.self)
        }
    }
}
