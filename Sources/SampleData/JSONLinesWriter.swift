import Foundation

/// Bytes gathered before each write: large enough that writing costs little, small enough to never matter.
private let writeChunkSize = 64 * 1024

/// A generator's messages, or a labelled set's, written as JSON Lines.
extension Sequence where Element == GeneratedMessage {

    /// Streams every message as one JSON object per line to `handle`; returns the number of lines written.
    @discardableResult
    public func writeJSONLines(to handle: FileHandle) throws -> Int {
        try writeLines(to: handle) { message, _, buffer in message.appendJSON(to: &buffer) }
    }

    /// Writes the JSON Lines to the file at `url`, created or truncated; returns the number of lines written.
    @discardableResult
    public func writeJSONLines(to url: URL) throws -> Int {
        try writeLines(to: url) { message, _, buffer in message.appendJSON(to: &buffer) }
    }

    /// Streams one line per message to `handle`, as `appendLine` writes it (without the newline) from the message
    /// and its 0-based index; returns the number of lines written.
    ///
    /// Messages are encoded as they are generated and written in chunks, so memory stays flat however many there
    /// are. Stops at the first write error (a full disk, a closed pipe), which it throws.
    @discardableResult
    public func writeLines(
        to handle: FileHandle, _ appendLine: (GeneratedMessage, Int, inout [UInt8]) throws -> Void
    ) throws -> Int {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(writeChunkSize + 4096)
        var lines = 0
        for message in self {
            try appendLine(message, lines, &buffer)
            buffer.append(UInt8(ascii: "\n"))
            lines += 1
            if buffer.count >= writeChunkSize {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if !buffer.isEmpty { try handle.write(contentsOf: buffer) }
        return lines
    }

    /// The same lines into the file at `url`, created or truncated.
    ///
    /// Opened with `open(2)` rather than `FileManager.createFile`, which replaces the file atomically through a
    /// temporary one and so cannot write to `/dev/stdout`, a FIFO or a file in a folder it may not create files in.
    @discardableResult
    public func writeLines(
        to url: URL, _ appendLine: (GeneratedMessage, Int, inout [UInt8]) throws -> Void
    ) throws -> Int {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw OutputFileError(path: url.path, reason: String(cString: strerror(errno)))
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let lines = try writeLines(to: handle, appendLine)
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
