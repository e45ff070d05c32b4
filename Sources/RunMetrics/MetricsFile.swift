import Foundation
import Glibc

/// The file `--metrics-file` (or `worker.metrics_file`) names: checked before the batch starts, replaced in one step
/// (written beside it under a temporary name, then renamed over it) so node_exporter never reads half a file.
public struct MetricsFile: Sendable {
    public let url: URL

    public init(_ path: String) {
        url = URL(fileURLWithPath: path)
    }

    /// Why the file cannot be written, phrased to follow its path; nil when it can. Checked before anything runs, so
    /// a wrong path is an input error (exit 2) rather than a run whose metrics are lost at the end.
    public var problem: String? {
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return "is a folder; name a file in it, e.g. \(url.appendingPathComponent("memory_worker.prom").path)"
        }
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            return "cannot be written: the folder \(folder) does not exist; create it or name a file in another one"
        }
        guard isDirectory.boolValue else {
            return "cannot be written: \(folder) is not a folder"
        }
        guard access(folder, W_OK) == 0 else {
            return "cannot be written: \(String(cString: strerror(errno))) to create files in the folder \(folder); "
                + "name a file in a folder the worker may write to"
        }
        return nil
    }

    /// When the batch last succeeded according to the file this run replaces; nil when it has no such line.
    public func previousLastSuccess() -> Date? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        let prefix = "memory_worker_last_success_timestamp_seconds "
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            if let seconds = Double(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)) {
                return Date(timeIntervalSince1970: seconds)
            }
        }
        return nil
    }

    /// Replaces the file with `text`: written to `.<name>.<pid>.tmp` beside it (a name the textfile collector,
    /// which reads `*.prom` only, skips), then renamed over it.
    public func write(_ text: String) throws {
        let pid = ProcessInfo.processInfo.processIdentifier
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(pid).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
        } catch {
            throw MetricsFileError(path: url.path, reason: error.localizedDescription)
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw MetricsFileError(path: url.path, reason: reason)
        }
    }
}

/// The metrics file could not be written.
struct MetricsFileError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot write the metrics file \(path): \(reason)" }
}
