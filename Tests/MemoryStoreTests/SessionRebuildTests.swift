import Testing

@testable import MemoryStore

@Suite struct SessionRebuildTests {
    @Test func fromScratchEverythingIsWritten() {
        let rebuild = SessionRebuild(
            tail: [(1, 3), (2, 3), (3, 3)], doomedChunks: [], restart: nil, lowestNewKey: [0], maxChars: 7)
        #expect(
            Expected(rebuild) == Expected(deleted: [], messageIDs: [1, 2, 3], chunkIndexes: [0, 0, 1], chunkCount: 2))
    }

    @Test func anAppendThatStartsANewChunkKeepsTheLastOne() {
        // Stored: chunk 10 = messages 1, 2 (keys 0, 1). New: message 3 with key 2, too long to join.
        let rebuild = SessionRebuild(
            tail: [(1, 3), (2, 3), (3, 5)],
            doomedChunks: [10],
            restart: .init(id: 10, messageCount: 2, lastKey: [1]),
            lowestNewKey: [2],
            maxChars: 7
        )
        #expect(Expected(rebuild) == Expected(deleted: [], messageIDs: [3], chunkIndexes: [1], chunkCount: 1))
    }

    @Test func anAppendThatJoinsTheLastChunkReplacesIt() {
        let rebuild = SessionRebuild(
            tail: [(1, 3), (2, 1)],
            doomedChunks: [10],
            restart: .init(id: 10, messageCount: 1, lastKey: [0]),
            lowestNewKey: [1],
            maxChars: 7
        )
        #expect(Expected(rebuild) == Expected(deleted: [10], messageIDs: [1, 2], chunkIndexes: [0, 0], chunkCount: 1))
    }

    @Test func aMessageInsertedInsideTheChunkReplacesItEvenAtTheSameSize() {
        // Stored: chunk 10 = keys 0 and 2. New: key 1, so the first chunk is now keys 0 and 1.
        let rebuild = SessionRebuild(
            tail: [(1, 3), (5, 3), (2, 3)],
            doomedChunks: [10, 11],
            restart: .init(id: 10, messageCount: 2, lastKey: [2]),
            lowestNewKey: [1],
            maxChars: 7
        )
        #expect(
            Expected(rebuild)
                == Expected(deleted: [10, 11], messageIDs: [1, 5, 2], chunkIndexes: [0, 0, 1], chunkCount: 2))
    }

    @Test func aNewMessageWithTheLastOnesVeryKeyRebuildsTheChunk() {
        // Two messages may share an order key; the new one may sort before the stored one by content hash, so the
        // chunk cannot be assumed unchanged.
        let rebuild = SessionRebuild(
            tail: [(1, 3), (2, 3), (3, 5)],
            doomedChunks: [10],
            restart: .init(id: 10, messageCount: 2, lastKey: [1]),
            lowestNewKey: [1],
            maxChars: 7
        )
        #expect(
            Expected(rebuild)
                == Expected(deleted: [10], messageIDs: [1, 2, 3], chunkIndexes: [0, 0, 1], chunkCount: 2))
    }

    /// The parts of a rebuild, to compare with what a case expects.
    private struct Expected: Equatable {
        var deleted: [Int]
        var messageIDs: [Int]
        var chunkIndexes: [Int]
        var chunkCount: Int

        init(deleted: [Int], messageIDs: [Int], chunkIndexes: [Int], chunkCount: Int) {
            self.deleted = deleted
            self.messageIDs = messageIDs
            self.chunkIndexes = chunkIndexes
            self.chunkCount = chunkCount
        }

        init(_ rebuild: SessionRebuild) {
            self.init(
                deleted: rebuild.deletedChunks, messageIDs: rebuild.messageIDs, chunkIndexes: rebuild.chunkIndexes,
                chunkCount: rebuild.chunkCount)
        }
    }
}
