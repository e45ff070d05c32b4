import Foundation
import Glibc

/// A query job's results file, written under a temporary name and moved into place only when the job succeeds, so
/// a failed or interrupted job never leaves a half-written file where the last good one was.
///
/// `@unchecked Sendable`: `handle` is written only while `lock` (an `NSLock`) is held.
final class OutputFile: @unchecked Sendable {
    let url: URL
    private let temporaryURL: URL
    private let handle: FileHandle
    private let lock = NSLock()

    init(_ url: URL) throws {
        self.url = url
        temporaryURL = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        guard FileManager.default.createFile(atPath: temporaryURL.path, contents: nil) else {
            throw OutputError(path: temporaryURL.path, reason: "cannot create the file")
        }
        handle = try FileHandle(forWritingTo: temporaryURL)
    }

    /// Appends `lines`, each followed by a newline, in one write so concurrent tasks never interleave a record.
    func append(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        let data = Data((lines.joined(separator: "\n") + "\n").utf8)
        lock.lock()
        defer { lock.unlock() }
        try handle.write(contentsOf: data)
    }

    /// Moves the file into place, replacing an older one in a single step (rename(2)).
    func commit() throws {
        try handle.close()
        guard rename(temporaryURL.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw OutputError(path: url.path, reason: reason)
        }
    }

    /// Removes the temporary file.
    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(at: temporaryURL)
    }
}

/// The output file could not be written.
struct OutputError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot write the output \(path): \(reason)" }
}
