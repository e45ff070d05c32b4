/// Groups a session's messages into chunks: consecutive messages, in order, greedily up to a character budget.
///
/// Only lengths matter, so the database keeps the text and the chunk contents are assembled there (`string_agg`);
/// this type decides where chunks start. It is a pure function of the ordered lengths, which is what makes chunks
/// independent of how messages were batched: the store always re-chunks from the stored messages.
///
/// A chunk's length counts its messages' characters (Unicode scalars, PostgreSQL's `char_length` in a UTF-8 database)
/// plus one "\n" between neighbours. A message joins the current chunk if the result stays within `maxChars`;
/// otherwise it starts the next chunk, so a message longer than `maxChars` is a chunk of its own.
enum Chunker {
    /// For each length, in order, the index (from 0) of the chunk it belongs to.
    static func chunkIndexes(lengths: [Int], maxChars: Int) -> [Int] {
        var indexes: [Int] = []
        indexes.reserveCapacity(lengths.count)
        var chunk = -1
        var used = 0
        for length in lengths {
            if chunk >= 0, used + 1 + length <= maxChars {
                used += 1 + length
            } else {
                chunk += 1
                used = length
            }
            indexes.append(chunk)
        }
        return indexes
    }
}
