import Foundation
import Testing

@testable import LiveProgress

/// The live progress lines: on a terminal (a pseudo-terminal made by util-linux's `script`) they appear while a job
/// runs and are erased before the report; never without a terminal; `--no-progress` and `--progress` override.
@Suite struct LiveProgressTests {
    static let erase = "\u{1B}[J"

    /// Runs `worker run jobs.yaml` with `options` on a pseudo-terminal, which is its stdout and stderr both; what
    /// the terminal received.
    static func onTerminal(_ batch: RunCommandTests.Batch, _ options: [String] = []) async throws
        -> WorkerProcess.Output
    {
        let command = ([try WorkerProcess.executableURL().path, "run", "jobs.yaml"] + options)
            .map { "'\($0)'" }.joined(separator: " ")
        return try await WorkerProcess.launch(
            URL(fileURLWithPath: "/usr/bin/script"), ["--quiet", "--return", "--command", command, "/dev/null"],
            environment: ProcessInfo.processInfo.environment, directory: batch.folder, timeout: .seconds(60))
    }

    static func batch() throws -> RunCommandTests.Batch {
        let batch = try RunCommandTests.Batch()
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        return batch
    }

    @Test func onATerminalALineShowsWhileTheJobRunsAndIsErasedBeforeTheReport() async throws {
        let batch = try Self.batch()
        defer { batch.remove() }
        let output = try await Self.onTerminal(batch)
        #expect(output.status == 0, "\(output.stdout)")
        let text = output.stdout
        let line = try #require(text.range(of: "load: 0 item(s)", options: .backwards), "\(text)")
        let report = try #require(text.range(of: "job   kind"), "\(text)")
        let erased = try #require(text.range(of: Self.erase, options: .backwards))
        #expect(line.upperBound <= erased.lowerBound && erased.upperBound <= report.lowerBound, "\(text)")
        // The line is drawn, then the cursor goes back up to it so the next line written replaces it.
        #expect(text[line.lowerBound...].contains("\u{1B}[1A"))
    }

    @Test func noProgressOnATerminalPrintsNone() async throws {
        let batch = try Self.batch()
        defer { batch.remove() }
        let output = try await Self.onTerminal(batch, ["--no-progress"])
        #expect(output.status == 0, "\(output.stdout)")
        #expect(output.stdout.contains("job   kind"), "\(output.stdout)")
        #expect(!output.stdout.contains("item(s)"), "\(output.stdout)")
        #expect(!output.stdout.contains("\u{1B}["), "\(output.stdout)")
    }

    @Test func withoutATerminalThereIsNoneUnlessAskedFor() async throws {
        let batch = try Self.batch()
        defer { batch.remove() }
        let plain = try await batch.run(["jobs.yaml"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stderr.contains("job load finished"), "\(plain.stderr)")
        #expect(!plain.combined.contains("item(s)") && !plain.combined.contains("\u{1B}["), "\(plain.combined)")
        let forced = try await batch.run(["jobs.yaml", "--progress"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stderr.contains("load: 0 item(s)") && forced.stderr.contains(Self.erase), "\(forced.stderr)")
    }

    @Test func aLineSaysItemsRateShareReadAndTimeLeft() {
        #expect(
            LiveProgress.line(job: "load", items: 500, elapsed: 5, bytes: (read: 500_000, total: 2_000_000))
                == "load: 500 item(s), 100/s, 25% of 2.0 MB read, ETA 0:15")
        #expect(
            LiveProgress.line(job: "big", items: 10, elapsed: 100, bytes: (read: 1_000, total: 100_000))
                == "big: 10 item(s), 0/s, 1% of 0.1 MB read, ETA 2:45:00")
        #expect(LiveProgress.line(job: "ask", items: 3, elapsed: 2, bytes: nil) == "ask: 3 item(s), 2/s")
        #expect(
            LiveProgress.line(job: "done", items: 3, elapsed: 0, bytes: (read: 9, total: 9))
                == "done: 3 item(s), 100% of 0.0 MB read")
    }
}
