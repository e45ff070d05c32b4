import Configuration
import Diagnostics
import Foundation
import YAMLReading
import Yams

/// `config.yaml`, read once.
///
/// swift-configuration's `YAMLSnapshot` serves the values, so key encoding and scalar handling match every other
/// user of the library. It keeps no line numbers, so Yams' node tree of the same bytes supplies them, together with
/// the checks the snapshot does not make: unknown keys, sections that are not mappings, lists where one value
/// belongs. Building the snapshot from the bytes already read (rather than through `FileProvider`) keeps loading
/// synchronous and guarantees the lines describe the very text the values came from.
struct ConfigFile: Sendable {
    /// The path as given, which is how messages name the file.
    let path: String
    /// The values; nil when the document is empty.
    let snapshot: YAMLSnapshot?
    /// The line of every key, by dotted key path.
    let lines: [String: Int]
    /// Dotted key paths whose value is YAML null (`key:`, `~`, `null`), which means "not set" here but which the
    /// snapshot would hand out as the text `null`.
    let nullPaths: Set<String>
    /// Unknown keys, with suggestions.
    let warnings: [String]

    /// Reads and parses `path`. A missing file is nil when `required` is false and an error otherwise; `namedBy`
    /// says who named the file, for the message.
    static func read(path: String, required: Bool, namedBy: String) throws(SettingsError) -> ConfigFile? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT, !required { return nil }
            let reason =
                errno == ENOENT ? "no such config file" : "cannot read config file: \(String(cString: strerror(errno)))"
            throw SettingsError([.file(path, "\(reason) (named by \(namedBy))")])
        }
        // `--config /dev/null` is a mistake, not "no settings"; and Foundation reads only regular files, failing on
        // anything else with "You don't have permission", which sends the reader the wrong way.
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw SettingsError([
                .file(
                    path,
                    "is \(FileType.describe(status.st_mode)), not a regular file (named by \(namedBy)); name a YAML "
                        + "config file")
            ])
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SettingsError([.file(path, "cannot read config file: \(error.localizedDescription)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SettingsError([.file(path, "not UTF-8 text; save config files as UTF-8")])
        }
        return try parse(text: text, data: data, path: path)
    }

    private static func parse(text: String, data: Data, path: String) throws(SettingsError) -> ConfigFile {
        // swift-configuration flattens each alias into keys of its own, at a cost that grows faster than the
        // expansion; a config file has a few dozen keys, so a thousand is generous.
        let root: Node?
        do {
            root = try YAMLDocument.compose(
                text, maxAliasExpansion: 1_000,
                oneDocument: "a config file holds one document; merge the settings into it")
        } catch {
            throw SettingsError([.file(path, line: error.line, error.message)])
        }
        // An empty document (or one that is only comments) sets nothing, like a missing default file.
        guard let root, root.null == nil else {
            return ConfigFile(path: path, snapshot: nil, lines: [:], nullPaths: [], warnings: [])
        }
        var walk = ConfigFileSchema.Walk(path: path)
        walk.visit(root, at: [], line: root.mark?.line)
        guard walk.problems.isEmpty else {
            throw SettingsError(walk.problems)
        }
        let snapshot: YAMLSnapshot
        do {
            snapshot = try YAMLSnapshot(
                data: data.bytes,
                providerName: "config file \(path)",
                parsingOptions: .init(secretsSpecifier: .dynamic { key, _ in isSecretKeyPath(key) })
            )
        } catch {
            throw SettingsError([.file(path, "cannot read config file: \(error)")])
        }
        return ConfigFile(
            path: path, snapshot: snapshot, lines: walk.lines, nullPaths: walk.nullPaths, warnings: walk.warnings)
    }

    /// The text at `keyPath`, or nil when it is absent, null or empty (empty means "not set", as in the environment).
    func value(at keyPath: [String]) -> String? {
        guard let snapshot, !nullPaths.contains(keyPath.joined(separator: ".")) else { return nil }
        // The walk has already rejected lists and mappings at known keys, so a failure here means "not a value".
        guard let result = try? snapshot.value(forKey: AbsoluteConfigKey(keyPath), type: .string),
            case .string(let text)? = result.value?.content, !text.isEmpty
        else { return nil }
        return text
    }

    /// Where `keyPath` is set, as precisely as known.
    func source(of keyPath: [String]) -> SettingSource {
        .file(path: path, line: lines[keyPath.joined(separator: ".")])
    }
}

/// Whether a dotted key path holds a secret, so swift-configuration redacts it in its own debug output and access
/// logs (`CONFIG_ACCESS_LOG_FILE`) too.
func isSecretKeyPath(_ keyPath: String) -> Bool {
    let lowered = keyPath.lowercased()
    return lowered.hasSuffix("password") || lowered.hasSuffix("url")
}
