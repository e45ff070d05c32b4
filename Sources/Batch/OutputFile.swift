import Foundation
import Glibc
import Support

/// A query job's results file, written under a temporary name and moved into place only when the job succeeds, so
/// a failed or interrupted job never leaves a half-written file where the last good one was.
///
/// The temporary name, `.<name>.<pid>.tmp` beside the output, carries the writer's process id, so a later run can
/// tell a temporary that a killed worker left behind (`kill -9` gives no chance to discard it) from one a worker
/// still running is writing.
final class OutputFile: Sendable {
    let url: URL
    /// Paths of the temporaries of this output that processes no longer running left behind, removed on opening.
    let removedStale: [String]
    private let temporaryURL: URL
    /// Locked so that the tasks of a job append whole records, never interleaved.
    private let handle: Locked<FileHandle>

    init(_ url: URL) throws {
        self.url = url
        let pid = ProcessInfo.processInfo.processIdentifier
        removedStale = Self.removeStaleTemporaries(of: url, except: pid)
        temporaryURL = Self.temporaryURL(of: url, pid: pid)
        guard FileManager.default.createFile(atPath: temporaryURL.path, contents: nil) else {
            throw OutputError(path: temporaryURL.path, reason: "cannot create the file")
        }
        handle = Locked(try FileHandle(forWritingTo: temporaryURL))
    }

    /// Appends `lines`, each followed by a newline, in one write so concurrent tasks never interleave a record.
    func append(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        let data = Data((lines.joined(separator: "\n") + "\n").utf8)
        try handle.withLock { try $0.write(contentsOf: data) }
    }

    /// Moves the file into place, replacing an older one in a single step (rename(2)).
    func commit() throws {
        try handle.withLock { try $0.close() }
        guard rename(temporaryURL.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw OutputError(path: url.path, reason: reason)
        }
    }

    /// Removes the temporary file.
    func discard() {
        try? handle.withLock { try $0.close() }
        try? FileManager.default.removeItem(at: temporaryURL)
    }

    static func temporaryURL(of url: URL, pid: Int32) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(pid).tmp")
    }

    /// Removes the temporaries of `url` whose process is gone and returns their paths. One whose process id names
    /// a running process (`kill(pid, 0)`) stays: a concurrent run may be writing it, and a recycled id only
    /// postpones the cleanup to a later run.
    private static func removeStaleTemporaries(of url: URL, except ownPID: Int32) -> [String] {
        let folder = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent)."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            let digits = name.dropFirst(prefix.count).dropLast(".tmp".count)
            guard let pid = Int32(digits), pid > 0, pid != ownPID, !isRunning(pid) else { continue }
            let stale = temporaryURL(of: url, pid: pid)
            if (try? FileManager.default.removeItem(at: stale)) != nil { removed.append(stale.path) }
        }
        return removed.sorted()
    }

    /// Whether a process with this id exists; one owned by another user answers EPERM, and exists too.
    private static func isRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

/// The output file could not be written.
struct OutputError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot write the output \(path): \(reason)" }
}
