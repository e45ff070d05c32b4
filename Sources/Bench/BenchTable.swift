import Foundation

/// The report as a table for people: one block per item, each measurement next to its reference and target.
/// Targets are reported, never enforced: a miss is marked "BELOW TARGET", and the exit status stays 0.
struct BenchTable {
    let report: BenchReport
    let jsonPath: String

    func render() -> String {
        var lines = header()
        lines += section("1", "Pool round trip", report.poolRoundTrip.map(roundTrip), error: "pool")
        lines += section("2", "Scaling", report.scaling.map(scaling), error: "scaling")
        lines += section("3", "Non-blocking", report.nonBlocking.map(nonBlocking), error: "nonblocking")
        lines += section("4", "Ingest", report.ingest.map(ingest), error: "ingest")
        lines += section("5", "Query", report.query.map(query), error: "query")
        lines += section("6", "Memory", report.memory.map(memory), error: "memory")
        lines += section("7", "Retrieval", report.retrieval.map(retrieval), error: "retrieval")
        lines += section("8", "Queue", report.queue.map(queue), error: "queue")
        for (step, error) in report.errors.sorted(by: { $0.key < $1.key }) where !BenchOptions.items.contains(step) {
            lines += ["", "FAILED (\(step)): \(error)"]
        }
        lines.append("")
        lines.append("JSON: \(jsonPath)")
        return lines.joined(separator: "\n")
    }

    private func header() -> [String] {
        var lines = ["memory-worker bench, \(ISO8601DateFormatter().string(from: report.startedAt))"]
        if let duration = report.durationS { lines[0] += String(format: " (%.0f s)", duration) }
        if let machine = report.machine {
            let memory = machine.memoryGiB.map { String(format: "%.1f GiB RAM", $0) }
            let parts = ["\(machine.cpus) CPUs (nproc)", machine.cpuModel, memory, machine.kernel].compactMap { $0 }
            lines.append("machine   " + parts.joined(separator: " · "))
            lines.append("server    \(machine.postgres)")
            lines.append("tools     \(machine.pgbench); worker and bench: \(machine.build) build")
            lines.append("database  \(machine.database)")
            lines.append("load      " + load(machine))
        }
        return lines
    }

    /// The load averages, with a warning when other work already kept a CPU busy before the bench began.
    private func load(_ machine: MachineInfo) -> String {
        func text(_ values: [Double]) -> String { values.map { String(format: "%.2f", $0) }.joined(separator: " / ") }
        var line = "1/5/15-min load average \(text(machine.loadAverageAtStart)) at start"
        if !report.loadAverageAtEnd.isEmpty { line += ", \(text(report.loadAverageAtEnd)) at end" }
        if let current = machine.loadAverageAtStart.first, current >= 1 {
            line += String(
                format: "; BUSY: load %.2f on %d CPUs before the first measurement, so numbers run low and noisy",
                current,
                machine.cpus)
        }
        return line
    }

    private func section(_ number: String, _ title: String, _ body: [String]?, error key: String) -> [String] {
        var lines = ["", "\(number). \(title)"]
        if let body {
            lines += body.map { "   " + $0 }
        } else if let error = report.errors[key] {
            lines += error.split(separator: "\n").map { "   FAILED: " + $0 }
        } else {
            lines.append("   skipped")
        }
        return lines
    }

    private func roundTrip(_ result: RoundTripResult) -> [String] {
        func runs(_ samples: [Double]) -> String { "runs: " + samples.map(grouped).joined(separator: " / ") }
        return [
            "\(grouped(Double(result.leases))) leases of `SELECT $1::int + 1` from \(result.tasks) tasks, "
                + "max_size \(result.maxSize) (min_size \(result.maxSize)); pgbench: as many transactions, "
                + "10 clients, 2 threads; best of \(result.samples.count) interleaved rounds",
            row("ConnectionPool (ours)", rate(result.leasesPerSecond, "leases/s"), runs(result.samples)),
            row(
                "pgbench -M extended", rate(result.pgbenchExtended.tps, "tps"),
                runs(result.pgbenchExtendedSamples)),
            row(
                "pgbench -M prepared", rate(result.pgbenchPrepared.tps, "tps"),
                runs(result.pgbenchPreparedSamples)),
            row(
                "ours/pgbench extended", String(format: "%.2f", result.ratioExtended),
                verdict(result.ratioExtended, atLeast: result.targetExtended)
                    + String(format: " (ratio of the rounds' medians %.2f)", result.medianRatioExtended)),
            row(
                "ours/pgbench prepared", String(format: "%.2f", result.ratioPrepared),
                verdict(result.ratioPrepared, atLeast: result.targetPrepared)
                    + String(format: " (ratio of the rounds' medians %.2f)", result.medianRatioPrepared)),
            row(
                "client CPU per lease",
                String(format: "%.1f µs", result.userCPUMicrosecondsPerLease + result.systemCPUMicrosecondsPerLease),
                String(
                    format:
                        "ours: %.1f user + %.1f sys, whole bench process, least of the rounds; pgbench, its fastest run: ",
                    result.userCPUMicrosecondsPerLease, result.systemCPUMicrosecondsPerLease)
                    + [result.pgbenchExtended, result.pgbenchPrepared].map { run in
                        "\(run.mode) "
                            + (run.cpuMicrosecondsPerTransaction.map { String(format: "%.1f µs", $0) } ?? "?")
                    }.joined(separator: ", ")),
            row(
                "context switches per round trip", String(format: "%.2f", result.contextSwitchesPerLease),
                "pgbench, its fastest run: "
                    + [result.pgbenchExtended, result.pgbenchPrepared].map { run in
                        "\(run.mode) "
                            + (run.clientContextSwitches.map {
                                String(format: "%.2f", Double($0) / Double(run.transactions))
                            } ?? "?")
                    }.joined(separator: ", ")),
            row(
                "allocations per lease", String(format: "%.1f", result.allocationsPerLease),
                "whole bench process, least of the rounds"),
        ]
            + (result.serverCPUMicroseconds.map { server in
                [
                    row(
                        "server CPU per transaction", String(format: "%.1f µs", server.ours),
                        String(
                            format:
                                "all its processes, median of the rounds; pgbench: extended %.1f µs, prepared %.1f µs",
                            server.pgbenchExtended, server.pgbenchPrepared))
                ]
            } ?? [])
    }

    private func scaling(_ result: ScalingResult) -> [String] {
        var lines = [
            "leases/s of `SELECT $1::int + 1`, \(grouped(Double(result.leasesPerCell))) leases per cell, "
                + "best of \(result.runsPerCell); rows: max_size (= min_size), columns: tasks"
        ]
        lines.append(pad("max_size", 10) + result.tasks.map { pad("\($0) tasks", 12, right: true) }.joined())
        for size in result.sizes {
            let cells = result.tasks.map { tasks in
                let cell = result.cells.first { $0.maxSize == size && $0.tasks == tasks }
                return pad(cell.map { grouped($0.leasesPerSecond) } ?? "-", 12, right: true)
            }
            lines.append(pad("\(size)", 10) + cells.joined())
        }
        let machine = result.stateMachine
        lines.append(
            "state machine alone (no I/O), lease + return, best of \(machine.runs) × \(grouped(Double(machine.cycles))) "
                + "cycles:")
        lines.append(
            row(
                "  connection idle", String(format: "%.0f ns", machine.nanosecondsPerCycle),
                String(format: "%.1f allocations per cycle", machine.allocationsPerCycle)))
        lines.append(
            row(
                "  another request waiting", String(format: "%.0f ns", machine.queuedNanosecondsPerCycle),
                String(format: "%.1f allocations per cycle", machine.queuedAllocationsPerCycle)))
        return lines
    }

    private func nonBlocking(_ result: NonBlockingResult) -> [String] {
        let trials = result.trialsSeconds.map { String(format: "%.3f", $0) }.joined(separator: " / ")
        let met = result.worstSeconds < result.target
        return [
            "\(result.sessions) × `SELECT pg_sleep(\(result.sleepSeconds))` at once, max_size \(result.sessions) "
                + "(min_size \(result.sessions), opened before timing)",
            row(
                "wall time, worst of \(result.trialsSeconds.count)", String(format: "%.3f s", result.worstSeconds),
                "runs: \(trials) s; target < \(String(format: "%.2f", result.target)) s: \(met ? "met" : "BELOW TARGET")"
            ),
        ]
    }

    private func ingest(_ result: IngestResult) -> [String] {
        let worker = result.worker
        return [
            "\(grouped(Double(result.messages))) generated messages (50 users × 10 sessions, seed 1); worker job: "
                + "batch_size \(result.batchSize), concurrency \(result.concurrency), "
                + "pool_size \(result.poolSize) + max_overflow \(result.maxOverflow); best of "
                + "\(result.workerSamples.count) each",
            row(
                "worker ingest job", rate(worker.itemsPerSecond, "msg/s"),
                "runs: \(result.workerSamples.map(grouped).joined(separator: " / ")); "
                    + String(format: "%.2f s job, %.2f s process; ", worker.job.durationS, worker.process.wallSeconds)
                    + cpu(worker.process) + "; \(grouped(Double(worker.job.chunks ?? 0))) chunks written"),
            row(
                "psql \\copy messages (text)", rate(result.psqlRowsPerSecond, "rows/s"),
                "runs: \(result.psqlCopySamples.map { String(format: "%.2f s", $0) }.joined(separator: " / ")); "
                    + "one COPY into a table LIKE the worker's, same generated columns and indexes"),
            row(
                "psql \\copy, no search vector",
                rate(Double(result.messages) / result.psqlCopyWithoutSearchVectorSeconds, "rows/s"),
                String(
                    format: "%.2f s, the same without the generated tsv column (reference only, not in the ratio)",
                    result.psqlCopyWithoutSearchVectorSeconds)),
            row("ours/psql", String(format: "%.2f", result.ratio), verdict(result.ratio, atLeast: result.target)),
        ] + usage(worker.job.poolUsage)
    }

    private func query(_ result: QueryResult) -> [String] {
        let worker = result.worker
        return [
            "\(grouped(Double(result.queries))) queries (one word of a random user), top_k \(result.topK), "
                + "best of \(result.workerSamples.count) each; worker job: "
                + "concurrency \(result.concurrency), pool_size \(result.poolSize); pgbench: 10 clients, 2 threads",
            row(
                "worker query job", rate(worker.itemsPerSecond, "queries/s"),
                "runs: \(result.workerSamples.map(grouped).joined(separator: " / ")); "
                    + String(format: "%.2f s job; ", worker.job.durationS) + cpu(worker.process)
                    + "; \(grouped(Double(worker.job.hits ?? 0))) hits"),
            row(
                "pgbench -M prepared, worker's SQL", rate(result.pgbench.tps, "tps"),
                "runs: \(result.pgbenchSamples.map(grouped).joined(separator: " / "))"
                    + (result.pgbench.latencyAverageMs.map { String(format: "; latency avg %.2f ms", $0) } ?? "")),
            row("ours/pgbench", String(format: "%.2f", result.ratio), verdict(result.ratio, atLeast: result.target)),
        ] + usage(worker.job.poolUsage)
    }

    private func memory(_ result: MemoryResult) -> [String] {
        let largest = max(result.smallPeakRSSMegabytes, result.largePeakRSSMegabytes)
        let under = largest < result.limitMegabytes
        return [
            "worker peak RSS (VmHWM, as its report gives it) for two ingests into fresh schemas",
            row(
                "\(grouped(Double(result.smallMessages))) messages",
                String(format: "%.1f MB", result.smallPeakRSSMegabytes),
                ""),
            row(
                "\(grouped(Double(result.largeMessages))) messages",
                String(format: "%.1f MB", result.largePeakRSSMegabytes),
                ""),
            row(
                "ratio 200k / 20k", String(format: "%.2f", result.ratio),
                "limit \(String(format: "%.1f", result.ratioLimit)): \(result.ratio <= result.ratioLimit ? "met" : "EXCEEDED")"
            ),
            row(
                "under \(Int(result.limitMegabytes)) MB", under ? "yes" : "NO",
                String(format: "largest %.1f MB", largest)),
        ]
    }

    private func retrieval(_ result: RetrievalResult) -> [String] {
        func figures(_ label: String, _ figures: RetrievalResult.Figures) -> String {
            row(
                label, String(format: "%.3f", figures.recallWithinBudget),
                String(
                    format: "recall@5 %.3f, recall@10 %.3f, MRR@10 %.3f, nDCG@10 %.3f", figures.recallAt5,
                    figures.recallAt10, figures.mrrAt10, figures.ndcgAt10))
        }
        let latencyMet = result.latencyP95Ms <= result.latencyTargetMs
        return [
            "worker generate --labels: \(grouped(Double(result.questions))) questions over "
                + "\(grouped(Double(result.messages))) messages (50 users × 10 sessions, seed 1); recall of the hits "
                + "within \(grouped(Double(result.budgetChars))) characters; queries/s against pgbench: item 5",
            figures("worker search (worker eval)", result.ours),
            figures("Okapi BM25 (k1 1.2, b 0.75)", result.reference),
            row(
                "ours/BM25", String(format: "%.2f", result.ratio),
                verdict(result.ratio, atLeast: result.target)
                    + String(format: "; goal ≥ %.2f: ", result.goal) + (result.ratio >= result.goal ? "met" : "not yet")
            ),
            row(
                "p95 search, user with \(grouped(Double(result.largeUserMessages))) msgs",
                String(format: "%.2f ms", result.latencyP95Ms),
                String(
                    format: "p50 %.2f ms over %d searches (top_k 10, one connection); target ≤ %.0f ms: ",
                    result.latencyP50Ms, result.latencyQueries, result.latencyTargetMs)
                    + (latencyMet ? "met" : "BELOW TARGET")),
        ]
    }

    private func queue(_ result: QueueResult) -> [String] {
        func runs(_ runs: [QueueResult.Run]) -> String {
            "runs: " + runs.map { grouped($0.jobsPerSecond) }.joined(separator: " / ")
        }
        func figures(_ run: QueueResult.Run, _ clients: String) -> String {
            "; \(clients) "
                + String(
                    format: "%.2f s; client CPU %.0f µs/job; server connections at peak: %d", run.processSeconds,
                    run.clientCPUSeconds / Double(result.jobs) * 1e6, run.peakServerConnections)
        }
        let enqueue = result.enqueueSeconds.sorted()
        var lines = [
            "\(grouped(Double(result.jobs))) query jobs (one inline query each, for a user with no messages), "
                + "enqueued anew before every run; drains: `worker drain --until-empty --parallel-jobs "
                + "\(result.parallelJobsPerDrain)`, pool_size \(result.poolSize) + max_overflow \(result.maxOverflow) "
                + "each; pgbench -M prepared: the queue's claim and finish SQL (report of "
                + "\(grouped(Double(result.reportBytes))) bytes) and the finished NOTIFY, one client per drain; jobs/s "
                + "from the first claim to the last finish by the queue's timestamps, best of "
                + "\(result.cells.first?.worker.count ?? 0) each",
            row(
                "worker enqueue, \(grouped(Double(result.jobs))) jobs", String(format: "%.2f s", enqueue.first ?? 0),
                String(
                    format: "least of %d, median %.2f s: ", enqueue.count,
                    enqueue.isEmpty ? 0 : enqueue[enqueue.count / 2])
                    + rate(Double(result.jobs) / max(enqueue.first ?? 1, 1e-9), "jobs/s")
                    + "; process start, validation, one transaction"),
        ]
        for cell in result.cells {
            let drains = cell.processes == 1 ? "1 drain" : "\(cell.processes) drains"
            let clients = cell.processes == 1 ? "1 client" : "\(cell.processes) clients"
            lines.append(
                row(
                    drains, rate(cell.bestWorker.jobsPerSecond, "jobs/s"),
                    runs(cell.worker) + figures(cell.bestWorker, "processes")))
            lines.append(
                row(
                    "pgbench, \(clients)", rate(cell.bestPgbench.jobsPerSecond, "jobs/s"),
                    runs(cell.pgbench) + figures(cell.bestPgbench, "process")))
            lines.append(row("ours/pgbench, \(clients)", String(format: "%.2f", cell.ratio), "no target"))
        }
        return lines
    }

    private func usage(_ usage: PoolUsageFigures?) -> [String] {
        guard let usage else { return [] }
        return [
            String(
                format: "pool usage: %d leases, peak %d concurrent, wait p95 %.2f ms, hold p50 %.2f ms, p95 %.2f ms",
                usage.leases, usage.peakConcurrentLeases, usage.waitMs.p95, usage.holdMs.p50, usage.holdMs.p95)
        ]
    }

    private func cpu(_ process: ProcessFigures) -> String {
        String(format: "worker CPU %.2f s user + %.2f s sys", process.userCPUSeconds, process.systemCPUSeconds)
    }

    private func verdict(_ ratio: Double, atLeast target: Double) -> String {
        String(format: "target ≥ %.2f: ", target) + (ratio >= target ? "met" : "BELOW TARGET")
    }

    private func row(_ label: String, _ value: String, _ note: String) -> String {
        pad(label, 36) + pad(value, 20, right: true) + (note.isEmpty ? "" : "   " + note)
    }

    private func rate(_ value: Double, _ unit: String) -> String {
        "\(grouped(value)) \(unit)"
    }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }
}

/// A whole number with thousands separators: 12345.6 → "12,346".
func grouped(_ value: Double) -> String {
    guard value.isFinite else { return "-" }
    let digits = String(Int(value.rounded()))
    var result = ""
    for (index, character) in digits.reversed().enumerated() {
        if index > 0, index % 3 == 0, character != "-" { result.append(",") }
        result.append(character)
    }
    return String(result.reversed())
}
