import Foundation

extension ConversationGenerator {
    /// Bytes gathered before each write: large enough that writing costs little, small enough to never matter.
    static let writeChunkSize = 64 * 1024

    /// Streams every message as one JSON object per line to `handle`; returns the number of lines written.
    ///
    /// Messages are encoded as they are generated and written in chunks, so memory stays flat however many there
    /// are. Stops at the first write error (a full disk, a closed pipe), which it throws.
    @discardableResult
    public func writeJSONLines(to handle: FileHandle) throws -> Int {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.writeChunkSize + 4096)
        var lines = 0
        for message in messages() {
            message.appendJSON(to: &buffer)
            buffer.append(UInt8(ascii: "\n"))
            lines += 1
            if buffer.count >= Self.writeChunkSize {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if !buffer.isEmpty { try handle.write(contentsOf: buffer) }
        return lines
    }

    /// Writes the JSON Lines to the file at `url`, created or truncated; returns the number of lines written.
    ///
    /// Opened with `open(2)` rather than `FileManager.createFile`, which replaces the file atomically through a
    /// temporary one and so cannot write to `/dev/stdout`, a FIFO or a file in a folder it may not create files in.
    @discardableResult
    public func writeJSONLines(to url: URL) throws -> Int {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw OutputFileError(path: url.path, reason: String(cString: strerror(errno)))
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let lines = try writeJSONLines(to: handle)
        try handle.close()
        return lines
    }
}

/// The output file could not be opened.
public struct OutputFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    /// The system's reason, e.g. "No such file or directory".
    public var reason: String

    public var description: String { "cannot write \(path): \(reason)" }
}
