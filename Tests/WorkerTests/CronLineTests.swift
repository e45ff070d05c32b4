import Foundation
import Testing

/// `docs/crontab` works as written: its command, with its two variables pointed at this build and a folder of jobs,
/// runs the batch from `/` in cron's bare environment, prints nothing (`--quiet`) and writes the report and the
/// metrics.
@Suite struct CronLineTests {
    /// The crontab's variable assignments and its one command (the line after the five time fields).
    static func crontab() throws -> (variables: [String: String], command: String) {
        let text = try String(
            contentsOf: ReportSchemaTests.repository.appendingPathComponent("docs/crontab"), encoding: .utf8)
        var variables: [String: String] = [:]
        var commands: [String] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            if let match = line.wholeMatch(of: /([A-Z_]+)=(.*)/) {
                variables[String(match.1)] = String(match.2)
            } else {
                let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
                try #require(fields.count == 6, "not a crontab entry: \(line)")
                commands.append(String(fields[5]))
            }
        }
        try #require(commands.count == 1)
        return (variables, commands[0])
    }

    @Test func theCrontabLineRunsTheBatchFromTheRootInCronsEnvironment() async throws {
        let (variables, command) = try Self.crontab()
        #expect(Set(variables.keys) == ["MEMORY_WORKER", "MEMORY_WORKER_HOME", "MEMORY_WORKER_METRICS"])
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("mw-cron-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let jobs = home.appendingPathComponent("jobs")
        try FileManager.default.createDirectory(at: jobs, withIntermediateDirectories: true)
        let url = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run the tests with make test")
        try "postgres:\n  url: \"\(url)\"\n  application_name: mw-cron-\(UInt32.random(in: 0...UInt32.max))\n"
            .write(to: home.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        try
            "{\"user\": \"cron-\(UUID().uuidString)\", \"session\": \"s\", \"role\": \"user\", \"content\": \"hello\"}\n"
            .write(to: jobs.appendingPathComponent("messages.jsonl"), atomically: true, encoding: .utf8)
        try "name: load\nkind: ingest\nsource: messages.jsonl\n"
            .write(to: jobs.appendingPathComponent("load.yaml"), atomically: true, encoding: .utf8)
        // What cron gives a job: these four, plus the crontab's own assignments.
        let environment = [
            "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "HOME": home.path, "LOGNAME": "root",
            "MEMORY_WORKER": try WorkerProcess.executableURL().path, "MEMORY_WORKER_HOME": home.path,
            "MEMORY_WORKER_METRICS": home.appendingPathComponent("memory_worker.prom").path,
        ]
        let output = try await WorkerProcess.shell(
            command, environment: environment, directory: URL(fileURLWithPath: "/"))
        #expect(output.status == 0, "\(output.combined)")
        #expect(output.combined.isEmpty, "\(output.combined)")
        let report = try Data(contentsOf: home.appendingPathComponent("last-report.json"))
        let summary = (try JSONSerialization.jsonObject(with: report) as? [String: Any])?["batch"] as? [String: Any]
        #expect(summary?["jobs_ok"] as? Int == 1, "\(String(decoding: report, as: UTF8.self))")
        let metrics = try await MetricsFileTests.parse(home.appendingPathComponent("memory_worker.prom"))
        #expect(metrics.value("memory_worker_run_exit_code") == 0)
    }
}
