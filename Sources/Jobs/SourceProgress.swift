import Synchronization

/// How far a job's source file has been read, for a live progress display: the reader advances it as it reads
/// blocks, the display reads it from another thread.
public final class SourceProgress: Sendable {
    /// The file's size when it was opened.
    public let totalBytes: Int64
    private let read = Atomic<Int64>(0)

    init(totalBytes: Int64) {
        self.totalBytes = totalBytes
    }

    /// Bytes read so far (by the latest iterator, when the file is iterated more than once).
    public var bytesRead: Int64 { read.load(ordering: .relaxed) }

    func advance(to offset: Int64) {
        read.store(offset, ordering: .relaxed)
    }
}
