import Configuration

/// One value as found, before parsing.
struct RawSetting: Sendable {
    var key: SettingKey
    var value: String
    /// The dotted key path it was found under, such as `store.database.postgres.pool_size` or `worker.concurrency`,
    /// for messages.
    var keyPath: String
    var source: SettingSource
    var position: Position
    /// How a problem shows the value, when not as ``Masking/display(_:for:)`` would.
    var shown: String? = nil
}

/// Finds values in the environment and the file through swift-configuration, rung by rung of the priority ladder.
///
/// Each source is asked on its own rather than through one `ConfigReader` over both, because the merge needs to
/// know *which* rung answered: a URL and a host from different rungs combine differently than from the same one.
struct SettingLookup: Sendable {
    private let environment: EnvironmentVariablesProvider
    private let file: ConfigFile?

    /// Reads `environment` rather than the process environment, so tests and callers decide what is visible.
    init(environment: [String: String], file: ConfigFile?) {
        self.environment = EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .dynamic { name, _ in isSecretKeyPath(name) }
        )
        self.file = file
    }

    /// Every rung's value for `key`, highest priority first.
    func candidates(for key: SettingKey) -> [RawSetting] {
        Position.ladder(for: key.section).compactMap { position in
            for keyPath in position.paths(for: key) {
                if let found = value(at: keyPath, origin: position.origin) {
                    return RawSetting(
                        key: key, value: found.value, keyPath: keyPath.joined(separator: "."), source: found.source,
                        position: position)
                }
            }
            return nil
        }
    }

    /// The value at `keyPath` in one source. An empty environment variable counts as unset, as shells and CI
    /// systems use `NAME=` to clear a variable they cannot remove.
    func value(at keyPath: [String], origin: Origin) -> (value: String, source: SettingSource)? {
        switch origin {
        case .environment:
            // `postgres.pool_size` → `POSTGRES_POOL_SIZE`: the provider's own key encoding, which `encodedKey` reports.
            guard let result = try? environment.value(forKey: AbsoluteConfigKey(keyPath), type: .string),
                case .string(let text)? = result.value?.content, !text.isEmpty
            else { return nil }
            return (text, .environment(variable: result.encodedKey))
        case .file:
            guard let file, let text = file.value(at: keyPath) else { return nil }
            return (text, file.source(of: keyPath))
        }
    }
}
