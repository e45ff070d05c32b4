import Foundation

/// A real PgBouncer of one test's own (scripts/pgbouncer-local) in front of a database of the test cluster (by
/// default `DATABASE_URL`'s; a unix-socket URL as scripts/pg-local prints it), in transaction mode with a small server
/// pool; stopped and its folder removed afterwards, also when the test fails.
struct PgBouncerProcess: Sendable {
    /// Its folder under /tmp: configuration, log, pid file and unix socket.
    let folder: String
    /// The URL workers connect to: PgBouncer's socket, the cluster's database and user.
    let url: String
    /// Its admin console (database `pgbouncer`): `SHOW POOLS`, `SHOW SERVERS`, `SHOW CLIENTS`.
    let consoleURL: String

    struct ScriptFailed: Error, CustomStringConvertible {
        var description: String
    }

    static let script = ReportSchemaTests.repository.appendingPathComponent("scripts/pgbouncer-local")

    /// Starts one in front of `serverURL` (default: `DATABASE_URL`) with at most `poolSize` server connections, runs
    /// `body`, and stops it, whatever `body` does.
    static func with<Result>(
        serverURL: String? = nil, poolSize: Int = 2, _ body: (PgBouncerProcess) async throws -> Result
    ) async throws -> Result {
        guard let server = serverURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !server.isEmpty else {
            throw ScriptFailed(description: "DATABASE_URL is not set: run the tests with 'make test'")
        }
        let folder = "/tmp/mw-bouncer-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let url = try await pgBouncerLocal(["start", folder, server, "\(poolSize)", "transaction"])
            let bouncer = try PgBouncerProcess(folder: folder, url: url)
            let result = try await body(bouncer)
            try await stop(folder)
            return result
        } catch {
            try? await stop(folder)
            throw error
        }
    }

    private init(folder: String, url: String) throws {
        self.folder = folder
        self.url = url
        // postgresql://USER@/DB?host=FOLDER&port=N: the same user and socket, the console's database.
        guard let at = url.firstIndex(of: "@"), let query = url.firstIndex(of: "?") else {
            throw ScriptFailed(description: "pgbouncer-local printed an unexpected URL: \(url)")
        }
        consoleURL = url[..<at] + "@/pgbouncer" + url[query...]
    }

    private static func stop(_ folder: String) async throws {
        _ = try await pgBouncerLocal(["stop", folder])
    }

    /// Runs scripts/pgbouncer-local; its stdout, trimmed.
    private static func pgBouncerLocal(_ arguments: [String]) async throws -> String {
        let output = try await WorkerProcess.launch(
            script, arguments, environment: ProcessInfo.processInfo.environment, directory: nil,
            timeout: .seconds(60))
        guard output.status == 0 else {
            throw ScriptFailed(
                description: "pgbouncer-local \(arguments.joined(separator: " ")) exited \(output.status): "
                    + output.stderr)
        }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
