import ArgumentParser
import Foundation
import Settings

/// `--config`, for every command that reads the settings: `config.yaml` (or this file), the environment, the
/// defaults.
struct SettingsOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("Config file (default: $WORKER_CONFIG, then ./config.yaml if it exists).", valueName: "path")
    )
    var configPath: String?

    /// Loads and checks the settings before anything connects, and prints their warnings; invalid settings end the
    /// program with exit code 2.
    func load() throws -> WorkerSettings {
        let settings = try resolve()
        for warning in settings.warnings { printWarning(warning) }
        return settings
    }

    /// Loads and checks the settings, leaving their warnings to the caller; invalid settings end the program with
    /// exit code 2.
    func resolve() throws -> WorkerSettings {
        do {
            return try SettingsLoader.load(configPath: configPath, environment: ProcessInfo.processInfo.environment)
        } catch {
            for problem in error.problems { printError("worker: \(problem)") }
            throw ExitCode.invalidInput
        }
    }
}
