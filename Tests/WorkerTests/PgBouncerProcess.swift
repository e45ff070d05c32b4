import Foundation

/// A PgBouncer of one test's own (scripts/pgbouncer-local) in front of a database of the private cluster, in
/// transaction mode with a small server pool: the fleet's connection limit, for real.
struct PgBouncerProcess: Sendable {
    let folder: String
    /// The URL workers connect to: PgBouncer's unix socket, the same database name.
    let url: String

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/pgbouncer-local")

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts one in front of `serverURL` (a unix-socket URL of the cluster) with at most `poolSize` server
    /// connections.
    static func start(serverURL: String, poolSize: Int, mode: String = "transaction") async throws -> PgBouncerProcess {
        let folder = "/tmp/mw-bouncer-\(UInt32.random(in: 0...UInt32.max))"
        let output = try await WorkerProcess.launch(
            script, ["start", folder, serverURL, "\(poolSize)", mode], environment: ProcessInfo.processInfo.environment,
            directory: nil, timeout: .seconds(30))
        guard output.status == 0 else {
            _ = try? await WorkerProcess.launch(
                script, ["stop", folder], environment: ProcessInfo.processInfo.environment, directory: nil,
                timeout: .seconds(30))
            throw Failed(description: "pgbouncer-local start failed (\(output.status)): \(output.stderr)")
        }
        return PgBouncerProcess(folder: folder, url: output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func stop() async {
        _ = try? await WorkerProcess.launch(
            Self.script, ["stop", folder], environment: ProcessInfo.processInfo.environment, directory: nil,
            timeout: .seconds(30))
    }
}
