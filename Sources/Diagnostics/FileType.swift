import Glibc

/// A file's type as messages name it, for "is a directory, not a job file" and the like.
public enum FileType {
    /// The type in `mode` (from `stat`) as a noun phrase: "a directory", "a character device".
    public static func describe(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a named pipe"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        case S_IFREG: "a regular file"
        default: "a special file"
        }
    }
}
