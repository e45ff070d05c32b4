/// Where an effective setting came from, so `worker config` and error messages can send the reader to the one place
/// that has to change.
public enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    /// An environment variable, by its exact name.
    case environment(variable: String)
    /// A configuration file; `line` is nil when the value cannot be pinned to one key (a whole-file problem).
    case file(path: String, line: Int?)
    /// Nothing set it: the built-in default, or libpq's own when the value is nil.
    case `default`

    /// `env NAME`, `path:line` or `default`: the `path:line` form is what editors and terminals turn into links.
    public var description: String {
        switch self {
        case .environment(let variable): "env \(variable)"
        case .file(let path, let line?): "\(path):\(line)"
        case .file(let path, nil): path
        case .default: "default"
        }
    }
}

/// One effective setting as `worker config` shows it.
public struct Setting: Sendable, Equatable {
    /// The key within a `postgres:` section, such as `pool_size`.
    public var key: String
    /// The value as shown: passwords are `***` and URLs have their password masked. Nil when nothing sets it and
    /// libpq (or the operating system) decides at connect time.
    public var value: String?
    /// Where the value came from.
    public var source: SettingSource
    /// How the value relates to the URL or to libpq, such as `from url` or `overrides url`; nil when plain.
    public var note: String?

    public init(key: String, value: String?, source: SettingSource, note: String? = nil) {
        self.key = key
        self.value = value
        self.source = source
        self.note = note
    }
}
