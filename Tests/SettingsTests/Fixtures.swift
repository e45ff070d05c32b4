import Foundation
import Testing

@testable import Settings

/// The password the masking tests look for in every output; distinctive so no other text contains it by chance.
let secret = "Zx9-Secret!"

/// A config file in the temporary directory, removed when the test is done with it.
struct ConfigFixture {
    let path: String

    init(_ yaml: String) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString).yaml")
        try Data(yaml.utf8).write(to: url)
        path = url.path
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A default path that never exists, so tests do not depend on the working directory's config.yaml.
let missingDefaultPath = FileManager.default.temporaryDirectory
    .appendingPathComponent("no-such-dir-\(UUID().uuidString)/config.yaml").path

/// Loads `yaml` (if any) with `environment` only; returns the settings and the file's path for source checks.
func load(_ yaml: String? = nil, environment: [String: String] = [:]) throws -> (WorkerSettings, String?) {
    let fixture = try yaml.map(ConfigFixture.init)
    defer { fixture?.remove() }
    let settings = try SettingsLoader.load(
        configPath: fixture?.path, environment: environment, defaultPath: missingDefaultPath)
    return (settings, fixture?.path)
}

/// The error loading `yaml` with `environment` throws, and the file's path; records an issue when nothing throws.
func loadError(
    _ yaml: String? = nil, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
) throws -> (SettingsError, String?) {
    let fixture = try yaml.map(ConfigFixture.init)
    defer { fixture?.remove() }
    do {
        let settings = try SettingsLoader.load(
            configPath: fixture?.path, environment: environment, defaultPath: missingDefaultPath)
        Issue.record("expected an error, got \(settings.entries)", sourceLocation: sourceLocation)
        return (SettingsError([]), fixture?.path)
    } catch {
        return (error, fixture?.path)
    }
}

extension WorkerSettings {
    func entry(_ key: String) -> Setting? {
        entries.first { $0.key == key }
    }
}
