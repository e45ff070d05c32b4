/// What re-chunking one session's tail means in rows: the chunks to delete and the messages of the chunks to write.
///
/// Pure, so the rule that saves work is testable on its own: when the first rebuilt chunk holds exactly the messages
/// of the chunk it replaces, that chunk is kept rather than deleted and written again. This is the common case of
/// appending to many sessions at once, where a new message that does not fit the last chunk starts the next one.
/// (Rewriting a chunk is what costs: its text, its concatenated `tsv` and their index entries are written again.)
struct SessionRebuild: Equatable {
    /// The chunk the rebuild starts at, as stored before this batch.
    struct RestartChunk: Equatable {
        var id: Int
        var messageCount: Int
        var lastKey: [UInt8]
    }

    /// Chunk ids to delete.
    var deletedChunks: [Int]
    /// The messages of the chunks to write, in order.
    var messageIDs: [Int]
    /// For each of ``messageIDs``, its chunk's index within this session (from 0).
    var chunkIndexes: [Int]
    /// How many chunks will be written.
    var chunkCount: Int

    /// - Parameters:
    ///   - tail: the ids and lengths of the session's messages from the restart point on, in message order.
    ///   - doomedChunks: the session's stored chunks from the restart point on (the restart chunk included).
    ///   - restart: the stored chunk the tail starts with, if the rebuild does not start from scratch.
    ///   - lowestNewKey: the lowest order key among the messages this batch added to the session.
    init(
        tail: [(id: Int, length: Int)],
        doomedChunks: [Int],
        restart: RestartChunk?,
        lowestNewKey: [UInt8],
        maxChars: Int
    ) {
        let indexes = Chunker.chunkIndexes(lengths: tail.map(\.length), maxChars: maxChars)
        let firstChunkSize = indexes.prefix(while: { $0 == 0 }).count
        // The first chunk is unchanged when every new message lies after the old chunk's last message and the first
        // chunk still ends where it did: then it holds the same messages, hence the same text and time. (A new
        // message with the last one's very key may sort before it by hash, so equal keys rebuild.)
        let keepFirst =
            restart.map {
                $0.lastKey.lexicographicallyPrecedes(lowestNewKey) && $0.messageCount == firstChunkSize
            } ?? false
        let skipped = keepFirst ? firstChunkSize : 0
        deletedChunks = doomedChunks.filter { !(keepFirst && $0 == restart?.id) }
        messageIDs = tail.dropFirst(skipped).map(\.id)
        chunkIndexes = Array(indexes.dropFirst(skipped))
        chunkCount = (indexes.last.map { $0 + 1 } ?? 0) - (keepFirst ? 1 : 0)
    }
}
