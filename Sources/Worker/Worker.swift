import ArgumentParser
import Batch
import BuildInfo
import Foundation
import LogOutput
import Logging
import Postgres
import Settings
import Support

@main
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Runs memory ingest and query jobs against PostgreSQL over one shared connection pool.",
        version: BuildInfo.versionLine,
        subcommands: [
            Run.self, Validate.self, Migrate.self, Enqueue.self, Drain.self, Status.self, Ping.self, ConfigCommand.self,
            GenerateCommand.self,
            EvalCommand.self,
            MonitorCommand.self, DoctorCommand.self,
        ],
        defaultSubcommand: Run.self
    )

    /// Parses and runs the command; a malformed command line exits 2 like any other invalid input (ArgumentParser's
    /// own code for it is 64), so cron and CI see one code for "fix your input".
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                exit(withError: ExitCode.invalidInput)
            }
            exit(withError: error)
        }
    }
}

/// The exit statuses cron and CI read (``ExitStatus``, documented in the README), as ArgumentParser throws them.
extension ExitCode {
    init(_ status: ExitStatus) {
        self.init(status.rawValue)
    }

    static let invalidInput = ExitCode(ExitStatus.invalidInput)
    static let databaseUnavailable = ExitCode(ExitStatus.databaseUnavailable)

    /// A connection that could not be opened: unavailable only when that may pass; refused credentials are
    /// configuration.
    static func cannotConnect(_ error: any Error) -> ExitCode {
        ExitCode(FailureDiagnosis(error).kind.exitStatus)
    }
}

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connects, reports the server version and round-trip latency, and disconnects."
    )

    @OptionGroup var settings: SettingsOptions

    @Option(help: "Round trips to time.")
    var count = 10

    func run() async throws {
        let configuration = try settings.load().connection
        let connection: PostgresConnection
        let connectStart = ContinuousClock.now
        do {
            connection = try await PostgresConnection.connect(configuration)
        } catch {
            printError("worker: cannot reach the database: \(error)")
            throw ExitCode.cannotConnect(error)
        }
        let connectTime = ContinuousClock.now - connectStart
        defer { connection.close() }
        var samples: [Duration] = []
        for _ in 0..<max(1, count) {
            let start = ContinuousClock.now
            try await connection.query("SELECT $1::int + 1", [samples.count])
            samples.append(ContinuousClock.now - start)
        }
        samples.sort()
        print("database:  \(connection.target)")
        if connection.throughPooler {
            // The pid libpq has is the pooler's key for this client; each statement may run on another server process.
            print(
                "server:    PostgreSQL \(connection.serverVersionText) through a connection pooler (server pid "
                    + "\(connection.serverPIDAtConnect) at connect; \(connection.backendPID) is the pooler's key)")
        } else {
            print("server:    PostgreSQL \(connection.serverVersionText) (backend pid \(connection.backendPID))")
        }
        print("connect:   \(milliseconds(connectTime)) ms")
        print(
            "latency:   min \(milliseconds(samples[0])) ms, median \(milliseconds(samples[samples.count / 2])) ms,"
                + " max \(milliseconds(samples[samples.count - 1])) ms over \(samples.count) round trips"
        )
    }
}

/// The worker's own error messages on stderr, in the log format chosen, with the SQLSTATE of the error they report
/// where there is one.
func printError(_ message: String, sqlState: String? = nil) {
    LogOutput.writeLine(message, level: .error, metadata: sqlState.map { ["sqlstate": "\($0)"] } ?? [:])
}

/// A warning of the worker's own on stderr (`worker: warning: …`), in the log format chosen.
func printWarning(_ message: String) {
    LogOutput.writeLine("worker: warning: \(message)", level: .warning)
}

func milliseconds(_ duration: Duration) -> String {
    String(format: "%.3f", duration.milliseconds)
}
