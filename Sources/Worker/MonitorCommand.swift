import ArgumentParser
import Foundation
import Postgres

/// `worker monitor`: the server's view of the current database's connections, once or every `--interval` seconds
/// for `--duration` seconds.
///
/// The pool's own statistics say what the pool believes; this says what the server sees, which is what runs out
/// when something leaks. It uses one connection of its own, outside any pool, and leaves that connection out of
/// every count.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Shows the current database's connections (pg_stat_activity): total, by state, by application.",
        discussion: """
            "ours" counts connections whose application_name is the configured one (default memory-worker). One \
            sample by default; --interval repeats every S seconds, for --duration seconds (forever without it); \
            --duration alone samples every 10 s. Exit status: 75 if the database cannot be reached, 2 on invalid \
            settings or options or refused credentials.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Option(help: ArgumentHelp("Seconds between samples.", valueName: "S"))
    var interval: Double?

    @Option(help: ArgumentHelp("Seconds to keep sampling.", valueName: "S"))
    var duration: Double?

    @Flag(help: "Print one JSON object per sample, one per line, instead of text.")
    var json = false

    func run() async throws {
        let schedule = try sampleSchedule()
        let loaded = try settings.load()
        let ours = loaded.connection.ourApplicationName
        var configuration = loaded.connection
        configuration["application_name"] = ours + "-monitor"
        let connection = try await connectOrExit(configuration, purpose: "monitor")
        defer { connection.close() }
        if !json {
            emit(
                "Connections to \(configuration.maskedURL) (ours: application_name "
                    + "'\(Redaction.maskValue(ours))'; this monitor excluded)")
        }
        let start = ContinuousClock.now
        var index = 0
        repeat {
            if index > 0, let interval = schedule.interval {
                try await Task.sleep(until: start + interval * index, clock: .continuous)
            }
            let sample: ConnectionSample
            do {
                sample = try await ConnectionSample.take(on: connection, ours: ours, database: configuration.maskedURL)
            } catch {
                printError("worker: monitor: \(configuration.redact("\(error)"))")
                throw connection.isUsable ? ExitCode.failure : ExitCode.databaseUnavailable
            }
            emit(json ? try sample.jsonLine() : sample.text)
            index += 1
        } while schedule.continues(afterSample: index)
    }

    /// When to sample; invalid options exit with status 2, as invalid settings do.
    private func sampleSchedule() throws -> SampleSchedule {
        for (name, value) in [("--interval", interval), ("--duration", duration)] {
            if let value, !value.isFinite || value < 0 || (name == "--interval" && value == 0) {
                printError("worker: monitor: \(name) must be a positive number of seconds, not \(value)")
                throw ExitCode.invalidInput
            }
        }
        let seconds = interval ?? (duration == nil ? nil : 10)
        return SampleSchedule(interval: seconds.map { .milliseconds(Int64(($0 * 1000).rounded())) }, duration: duration)
    }

    /// Writes a line at once, unbuffered, so a monitor piped into a file or `tee` shows each sample as it is taken.
    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// Samples at 0, interval, 2 × interval… while that is before `duration`; one sample without an interval.
struct SampleSchedule {
    var interval: Duration?
    var duration: Double?

    func continues(afterSample count: Int) -> Bool {
        guard let interval else { return false }
        guard let duration else { return true }
        return (interval * count) < .milliseconds(Int64((duration * 1000).rounded()))
    }
}

/// One look at `pg_stat_activity`, in the JSON form scripts read (`--json`).
struct ConnectionSample: Codable {
    var time: String
    var database: String
    var applicationName: String
    /// Client connections to the current database, the monitor's own left out.
    var total: Int
    /// Those named `applicationName`.
    var ours: Int
    var byState: [String: Int]
    var byApplication: [String: Int]

    enum CodingKeys: String, CodingKey {
        case time, database, total, ours
        case applicationName = "application_name"
        case byState = "by_state"
        case byApplication = "by_application"
    }

    static func take(on connection: PostgresConnection, ours: String, database: String) async throws -> Self {
        // Client backends only: autovacuum and other background workers are not connections anyone opened.
        let rows = try await connection.query(
            """
            SELECT coalesce(state, 'unknown'), coalesce(application_name, ''), count(*)::int
            FROM pg_stat_activity
            WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
            GROUP BY 1, 2
            """
        ).rows
        // Names are shown masked: any program's application_name (ours included) may be a URL with a password.
        var sample = ConnectionSample(
            time: ISO8601DateFormatter().string(from: Date()), database: database,
            applicationName: Redaction.maskValue(ours), total: 0, ours: 0, byState: [:], byApplication: [:])
        for row in rows {
            let (state, application, count) = try row.decode((String, String, Int).self)
            sample.total += count
            sample.byState[state, default: 0] += count
            sample.byApplication[Redaction.maskValue(application), default: 0] += count
            if application == ours { sample.ours += count }
        }
        return sample
    }

    /// One compact line of JSON with sorted keys.
    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    var text: String {
        func list(_ counts: [String: Int]) -> String {
            guard !counts.isEmpty else { return "none" }
            return counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
                .map { "\($0.key.isEmpty ? "(no name)" : $0.key) \($0.value)" }
                .joined(separator: ", ")
        }
        return """
            \(time)  total \(total), ours \(ours)
              by state:       \(list(byState))
              by application: \(list(byApplication))
            """
    }
}

extension ConnectionConfiguration {
    /// The `application_name` this program's connections carry: the configured one, else `PGAPPNAME`, else
    /// `memory-worker`, the same order libpq applies.
    var ourApplicationName: String {
        if let name = self["application_name"], !name.isEmpty { return name }
        if let name = ProcessInfo.processInfo.environment["PGAPPNAME"], !name.isEmpty { return name }
        return self["fallback_application_name"] ?? ConnectionConfiguration.defaultApplicationName
    }
}

/// Opens one connection outside any pool; an unreachable database ends the program with status 75, refused
/// credentials with 2.
func connectOrExit(_ configuration: ConnectionConfiguration, purpose: String) async throws -> PostgresConnection {
    do {
        return try await PostgresConnection.connect(configuration)
    } catch {
        printError("worker: \(purpose): cannot reach the database: \(configuration.redact("\(error)"))")
        throw ExitCode.cannotConnect(error)
    }
}
