import ArgumentParser
import Batch
import Foundation
import Glibc

/// Runs a batch or a drain so that SIGINT and SIGTERM stop it gracefully: the first signal asks for a shutdown (no
/// new units; running ones get `grace`), and after the grace the work is cancelled, so its units roll back, its pool
/// still closes and its report is still written.
struct InterruptibleRun {
    let shutdown: ShutdownRequest
    let grace: Duration

    func run<Value: Sendable>(_ body: @escaping @Sendable () async -> Value) async -> Value {
        let work = Task { await body() }
        let watcher = SignalWatcher([SIGINT, SIGTERM]) { [shutdown, grace] signal in
            guard !shutdown.isRequested else { return }
            shutdown.request(signal: signal)
            printError("worker: stopping (signal \(signal)): no new units; running ones get \(grace) to finish")
            Task {
                try? await Task.sleep(for: grace)
                work.cancel()
            }
        }
        let value = await work.value
        withExtendedLifetime(watcher) {}
        return value
    }
}

/// The report options `run` and `drain` share, and printing a batch's or a drain's report the way they ask, with
/// its failure and leak lines on stderr.
struct ReportOutput: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(
        name: .customLong("report"),
        help: "What to print on stdout at the end: a table for people or one JSON document.")
    var format: Format = .table

    @Option(
        name: .customLong("report-file"),
        help: ArgumentHelp("Also write the JSON report to this file.", valueName: "path"))
    var file: String?

    @Flag(help: "Print only failures.")
    var quiet = false

    @Flag(inversion: .prefixedNo, help: "Exit 3 when a leak is found (--no-fail-on-leak only warns).")
    var failOnLeak = true

    func emit(_ result: BatchReport) throws {
        let json = try result.json()
        if let file {
            do {
                try Data((json + "\n").utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
            } catch {
                printError("worker: cannot write the report to \(file): \(error.localizedDescription)")
            }
        }
        switch format {
        case .json: print(json)
        case .table where !quiet || result.batch.status != .ok || !result.leaks.ok: print(result.table())
        case .table: if let skipped = result.skippedRecordsLine { printError("worker: \(skipped)") }
        }
        if let failure = result.batch.failure { printError("worker: \(failure.reason)", sqlState: failure.sqlState) }
        if !result.leaks.ok, !failOnLeak {
            printWarning("the leak check did not pass (see the report); not failing because of --no-fail-on-leak")
        }
    }
}
