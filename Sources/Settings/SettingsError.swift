import Diagnostics

/// Why the settings cannot be used; thrown before anything connects.
///
/// It lists every problem found, not just the first, so one edit-and-retry cycle fixes the whole file. Each problem
/// names the key, where it was set, the value (masked when it is a password or a URL with one) and what is accepted.
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    /// One thing wrong with the settings.
    public struct Problem: Sendable, CustomStringConvertible {
        /// The key path, such as `postgres.pool_size`; nil for problems with the file as a whole.
        public var key: String?
        /// Where the offending value was set.
        public var source: SettingSource?
        /// The offending value as shown, already masked; nil when there is no single value to show.
        public var value: String?
        /// The one-line message: source, key, value and what is accepted.
        public var description: String

        /// A value that does not parse or is out of range. `value` must already be masked.
        static func invalidValue(key: String, source: SettingSource, value: String, expected: String) -> Problem {
            Problem(
                key: key, source: source, value: value,
                description:
                    "\(source): invalid value \(Quote.text(value, limit: 200)) for \(key); expected \(expected)")
        }

        /// A problem with the file itself (missing, unreadable, not YAML), located as precisely as known.
        static func file(_ path: String, line: Int? = nil, _ message: String) -> Problem {
            var location = path
            if let line { location += ":\(line)" }
            return Problem(
                key: nil, source: .file(path: path, line: line), value: nil, description: "\(location): \(message)")
        }
    }

    /// Every problem found, in the order `worker config` lists the keys.
    public var problems: [Problem]

    init(_ problems: [Problem]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
