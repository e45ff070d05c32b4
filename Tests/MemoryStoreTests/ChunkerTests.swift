import Testing

@testable import MemoryStore

@Suite struct ChunkerTests {
    @Test func messagesJoinWhileTheTextWithNewlinesFits() {
        // 3 + 1 + 3 + 1 + 3 = 11 fits in 11; the fourth would make 15.
        #expect(Chunker.chunkIndexes(lengths: [3, 3, 3, 3], maxChars: 11) == [0, 0, 0, 1])
        #expect(Chunker.chunkIndexes(lengths: [3, 3, 3, 3], maxChars: 10) == [0, 0, 1, 1])
    }

    @Test func aMessageLongerThanTheBudgetIsAChunkAlone() {
        #expect(Chunker.chunkIndexes(lengths: [2, 50, 2, 2], maxChars: 10) == [0, 1, 2, 2])
        #expect(Chunker.chunkIndexes(lengths: [50], maxChars: 10) == [0])
    }

    @Test func emptyMessagesStillTakeTheirSeparator() {
        #expect(Chunker.chunkIndexes(lengths: [0, 0, 0], maxChars: 1) == [0, 0, 1])
        #expect(Chunker.chunkIndexes(lengths: [], maxChars: 5).isEmpty)
    }

    @Test func restartingAtAChunkBoundaryGivesTheSameChunks() {
        var generator = SplitMix64(seed: 7)
        let lengths = (0..<500).map { _ in Int(generator.next() % 120) }
        let whole = Chunker.chunkIndexes(lengths: lengths, maxChars: 200)
        // Every chunk start is a place the store may rebuild from: the tail re-chunked alone must match.
        for start in lengths.indices where start == 0 || whole[start] != whole[start - 1] {
            let tail = Chunker.chunkIndexes(lengths: Array(lengths[start...]), maxChars: 200)
            #expect(tail.map { $0 + whole[start] } == Array(whole[start...]))
        }
    }
}
