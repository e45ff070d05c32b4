import Foundation
import Postgres

/// A PostgreSQL cluster of one test's own (scripts/pg-local with `PG_LOCAL_FOLDER`), which the test may restart,
/// stop or reconfigure without disturbing the cluster every other test shares. Startup takes about a second.
final class ScratchCluster: Sendable {
    let folder: String
    /// The unix-socket URL as the superuser; it stays the same across restarts.
    let url: String

    struct ScriptFailed: Error, CustomStringConvertible {
        var description: String
    }

    private init(folder: String, url: String) {
        self.folder = folder
        self.url = url
    }

    /// Initialises and starts a new cluster in a fresh folder under /tmp.
    static func start(_ name: String) async throws -> ScratchCluster {
        let folder = "/tmp/mw-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        do {
            return ScratchCluster(folder: folder, url: try await pgLocal(["start"], folder: folder))
        } catch {
            await ScratchCluster(folder: folder, url: "").destroy()
            throw error
        }
    }

    /// Runs `body` with a new cluster and removes the cluster afterwards, also when `body` throws.
    static func with<Result>(_ name: String, _ body: (ScratchCluster) async throws -> Result) async throws -> Result {
        let cluster = try await start(name)
        do {
            let result = try await body(cluster)
            await cluster.destroy()
            return result
        } catch {
            await cluster.destroy()
            throw error
        }
    }

    func restart() async throws { _ = try await Self.pgLocal(["restart"], folder: folder) }
    func stop() async throws { _ = try await Self.pgLocal(["stop"], folder: folder) }
    func start() async throws { _ = try await Self.pgLocal(["start"], folder: folder) }

    /// The TCP URL (127.0.0.1, password authentication), without user info.
    func tcpURL() async throws -> String { try await Self.pgLocal(["url", "--tcp"], folder: folder) }

    /// Stops the server and removes the folder.
    func destroy() async {
        _ = try? await Self.pgLocal(["stop"], folder: folder)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A connection as the superuser over the unix socket.
    func admin() async throws -> PostgresConnection {
        try await PostgresConnection.connect(try ConnectionConfiguration(url))
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs scripts/pg-local on the cluster in `folder`; its stdout, trimmed.
    private static func pgLocal(_ arguments: [String], folder: String) async throws -> String {
        try await run(
            repository.appendingPathComponent("scripts/pg-local"), arguments, environment: ["PG_LOCAL_FOLDER": folder])
    }

    /// Runs `executable`; its stdout, trimmed, or an error with its stderr. Output goes through files, not pipes,
    /// so a server started underneath cannot hold a pipe open; the wait is the termination handler's, not a thread of
    /// the cooperative pool.
    static func run(_ executable: URL, _ arguments: [String], environment extra: [String: String] = [:])
        async throws -> String
    {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pg-local-\(UUID().uuidString)")
        let outputURL = base.appendingPathExtension("out")
        let errorsURL = base.appendingPathExtension("err")
        try Data().write(to: outputURL)
        try Data().write(to: errorsURL)
        defer {
            try? FileManager.default.removeItem(at: outputURL)
            try? FileManager.default.removeItem(at: errorsURL)
        }
        let output = try FileHandle(forWritingTo: outputURL)
        let errors = try FileHandle(forWritingTo: errorsURL)
        defer {
            try? output.close()
            try? errors.close()
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        guard status == 0 else {
            let log = (try? String(contentsOf: errorsURL, encoding: .utf8)) ?? ""
            throw ScriptFailed(
                description:
                    "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) exited \(status): \(log)")
        }
        return try String(contentsOf: outputURL, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
