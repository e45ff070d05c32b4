import Diagnostics
import Foundation

/// Checks on the files a job names, made while validating so a batch does not fail half-way on a missing file.
enum FileChecks {
    /// The path a job's `source` or `output` means: relative paths are relative to the job file's folder, so a job
    /// file works the same from any working directory (cron's is rarely the project's).
    static func resolve(_ path: String, relativeTo jobFile: String) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL }
        let folder = URL(fileURLWithPath: jobFile).deletingLastPathComponent()
        return URL(fileURLWithPath: path, relativeTo: folder).standardizedFileURL.absoluteURL
    }

    /// What is wrong with reading `url` as a source, phrased to follow the path; nil when it is a readable file.
    static func sourceProblem(_ url: URL) -> String? {
        var status = stat()
        guard stat(url.path, &status) == 0 else {
            return errno == ENOENT ? "does not exist" : "cannot be read (\(String(cString: strerror(errno))))"
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            return "is \(FileType.describe(status.st_mode)), not a regular file"
        }
        guard access(url.path, R_OK) == 0 else {
            return "is not readable (\(String(cString: strerror(errno))))"
        }
        return nil
    }

    /// What is wrong with writing results to `url`, phrased to follow the path; nil when it can be written.
    static func outputProblem(_ url: URL) -> String? {
        var status = stat()
        if stat(url.path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFREG else {
                return "is \(FileType.describe(status.st_mode)), not a regular file; name a file to (over)write"
            }
            guard access(url.path, W_OK) == 0 else {
                return "is not writable (\(String(cString: strerror(errno))))"
            }
            return nil
        }
        let folder = url.deletingLastPathComponent()
        guard stat(folder.path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            return "is in a folder that does not exist (\(folder.path)); create the folder first"
        }
        guard access(folder.path, W_OK) == 0 else {
            return "cannot be created: its folder \(folder.path) is not writable (\(String(cString: strerror(errno))))"
        }
        return nil
    }
}

/// Which file a path refers to, so an output can be compared with job files and sources however each was
/// spelt: through symbolic links, `..`, or another hard link.
struct FileIdentity: Equatable {
    /// The path with symbolic links resolved.
    var path: String
    /// Device and inode, when the file exists.
    var inode: Inode?

    struct Inode: Equatable {
        var device: UInt64
        var number: UInt64
    }

    init(_ url: URL) {
        path = url.standardizedFileURL.resolvingSymlinksInPath().path
        var status = stat()
        inode = stat(url.path, &status) == 0 ? Inode(device: UInt64(status.st_dev), number: UInt64(status.st_ino)) : nil
    }

    func isSameFile(as other: FileIdentity) -> Bool {
        if path == other.path { return true }
        guard let inode, let otherInode = other.inode else { return false }
        return inode == otherInode
    }
}
