import Foundation

/// A PgBouncer of one test's own in transaction mode (scripts/pgbouncer-local), in front of the private cluster.
struct PgBouncerProcess {
    let folder: String
    /// The URL workers connect to: PgBouncer's unix socket in `folder`.
    let url: String

    /// Starts PgBouncer in a fresh folder under /tmp (it runs as the cluster's OS user when the tests run as root,
    /// and that user must reach its folder), in front of `serverURL` (a unix-socket URL as scripts/pg-local prints
    /// it), with at most `poolSize` server connections; runs `body` with it and stops it, also when `body` throws.
    static func with<Result>(
        inFrontOf server: String, poolSize: Int = 8, _ body: (PgBouncerProcess) async throws -> Result
    ) async throws -> Result {
        let folder = "/tmp/mw-bouncer-\(UInt32.random(in: 0...UInt32.max))"
        let started = try await script(["start", folder, server, "\(poolSize)"])
        guard started.status == 0 else {
            _ = try? await script(["stop", folder])
            throw Failed(description: "scripts/pgbouncer-local start exited \(started.status): \(started.stderr)")
        }
        let bouncer = PgBouncerProcess(
            folder: folder, url: started.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        do {
            let result = try await body(bouncer)
            _ = try? await script(["stop", folder])
            return result
        } catch {
            _ = try? await script(["stop", folder])
            throw error
        }
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    private static let scriptURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/pgbouncer-local")

    private static func script(_ arguments: [String]) async throws -> WorkerProcess.Output {
        try await WorkerProcess.launch(
            scriptURL, arguments, environment: ProcessInfo.processInfo.environment, directory: nil,
            timeout: .seconds(60))
    }
}
