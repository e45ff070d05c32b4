/// A record of a source that cannot be used; reported rather than thrown so `on_bad_record: skip` can go on.
public struct BadRecord: Error, Sendable, Equatable, CustomStringConvertible {
    /// The source file's path (absolute for sources named in job files).
    public var file: String
    /// 1-based, counting every line, blank ones included, so editors jump to it.
    public var line: Int
    /// What is wrong and what was expected.
    public var reason: String

    /// `file:line: reason`, the form editors and terminals link.
    public var description: String { "\(file):\(line): \(reason)" }
}

/// A JSON Lines source that cannot be opened at all (as opposed to one with bad records).
public struct SourceFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "\(path): \(reason)" }
}
