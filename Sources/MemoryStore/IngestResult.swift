/// What one ingest call did.
public struct IngestResult: Sendable, Equatable, Codable {
    /// Messages stored by this call.
    public var inserted: Int
    /// Messages given that were already stored (or given twice): given − inserted.
    public var duplicates: Int
    /// Chunks (re)written for the sessions that gained messages.
    public var chunksWritten: Int

    package init(inserted: Int, duplicates: Int, chunksWritten: Int) {
        self.inserted = inserted
        self.duplicates = duplicates
        self.chunksWritten = chunksWritten
    }
}
