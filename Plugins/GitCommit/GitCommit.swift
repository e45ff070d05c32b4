import Foundation
import PackagePlugin

/// Writes the checkout's git commit into the target before every build (`scripts/git-commit`), for
/// `worker --version`. Outside a checkout, or without git, the commit is nil and the build goes on.
@main
struct GitCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("GitCommit.swift")
        return [
            .prebuildCommand(
                displayName: "Reading the git commit for worker --version",
                executable: package.appendingPathComponent("scripts/git-commit"),
                arguments: [package.path, output.path],
                outputFilesDirectory: context.pluginWorkDirectoryURL
            )
        ]
    }
}
