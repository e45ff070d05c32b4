import Foundation

extension BatchReport {
    /// The report for a person: one row per job, then each pool's statistics, then the leak verdict.
    public func table() -> String {
        var lines: [String] = []
        let header = [
            "job", "kind", "status", "items", "inserted", "dups", "bad", "hits", "time", "leases", "peak", "wait p95",
            "hold p95", "timeouts", "retries",
        ]
        var rows: [[String]] = []
        for job in jobs {
            let usage = job.poolUsage
            let ingest = job.kind == "ingest"
            rows.append([
                job.name, job.kind, job.status.rawValue, String(job.items), job.inserted.map(String.init) ?? "-",
                job.duplicates.map(String.init) ?? "-", ingest ? String(job.badRecords) : "-",
                job.hits.map(String.init) ?? "-", seconds(job.durationS),
                usage.map { String($0.leases) } ?? "-", usage.map { String($0.peakConcurrentLeases) } ?? "-",
                usage.map { milliseconds($0.waitMs.p95) } ?? "-", usage.map { milliseconds($0.holdMs.p95) } ?? "-",
                usage.map { String($0.timeouts) } ?? "-", String(job.retries),
            ])
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func render(_ row: [String]) -> String {
            row.enumerated().map { column, text in
                let padding = String(repeating: " ", count: widths[column] - text.count)
                return column >= 3 ? padding + text : text + padding
            }.joined(separator: "  ")
        }
        lines.append(render(header))
        lines += rows.map(render)
        for job in jobs {
            if let error = job.error { lines.append("\(job.name): \(error)") }
            if job.badRecords > 0 {
                lines.append("\(job.name): \(job.badRecords) bad record(s) skipped")
                lines += job.badRecordList.map { "  \($0)" }
            }
        }
        lines.append("")
        for (pool, statistics) in pools.sorted(by: { $0.key < $1.key }) {
            lines.append("pool \(pool)")
            lines.append(
                "  min_size \(statistics.minSize)  max_size \(statistics.maxSize)  timeout \(statistics.timeout) s"
                    + "  recycle \(statistics.recycle) s  active_references \(statistics.activeReferences)"
                    + "  pool_closed \(statistics.poolClosed)"
            )
            lines.append(
                "  requests \(statistics.requestsNum)  peak_leased \(statistics.peakLeased)"
                    + "  wait \(milliseconds(statistics.requestsWaitMs))  timeouts \(statistics.requestsTimeouts)"
                    + "  connections opened \(statistics.connectionsNum)  errors \(statistics.connectionsErrors)"
                    + "  lost \(statistics.connectionsLost)  bad returns \(statistics.returnsBad)"
            )
        }
        lines.append(leakLine)
        if let failure = batch.failure {
            lines.append("no job ran (\(failure.kind.rawValue)): \(failure.reason)")
        }
        lines.append(
            "batch \(batch.id) \(batch.status.rawValue): \(batch.jobsOK) ok, \(batch.jobsFailed) failed, "
                + "\(batch.jobsInterrupted) interrupted, \(batch.jobsSkipped) skipped of \(batch.jobsTotal) in "
                + seconds(batch.durationS)
                + (batch.peakRSSMB.map { String(format: ", peak RSS %.0f MB", $0) } ?? "")
        )
        return lines.joined(separator: "\n")
    }

    /// One line for the jobs that skipped bad records, or nil: what `--quiet` still prints when the batch is
    /// otherwise clean, since skipped records leave the exit status at 0.
    public var skippedRecordsLine: String? {
        let skipping = jobs.filter { $0.badRecords > 0 }
        guard !skipping.isEmpty else { return nil }
        let total = skipping.reduce(0) { $0 + $1.badRecords }
        let first = skipping.first?.badRecordList.first.map { ", first \($0)" } ?? ""
        return "\(total) bad record(s) skipped in \(skipping.map(\.name).joined(separator: ", "))\(first)"
            + " (run without --quiet or see the report for all)"
    }

    private var leakLine: String {
        var connections: String?
        if let checked = leaks.clientConnectionsChecked, let open = leaks.clientConnectionsOpen {
            connections = "connections: \(checked) opened, \(open) still open"
        }
        var server: String
        if let checked = leaks.serverBackendsChecked, let left = leaks.serverBackendsLeft {
            let pids = left.isEmpty ? "" : " (pid \(left.map(String.init).joined(separator: ", ")))"
            server = "server: checked \(checked) backends, \(left.count) left\(pids)"
        } else if leaks.throughPooler == true, leaks.serverCheckError == nil {
            server = "server: not asked, the connections went through a connection pooler, which keeps its own"
        } else {
            server = "server \(leaks.serverCheckError ?? "not checked")"
        }
        if leaks.throughPooler == true {
            if let left = leaks.poolerClientsLeft {
                server += "; pooler: \(left) of this process's clients left"
            } else {
                server += "; pooler \(leaks.poolerCheckError ?? "not checked")"
            }
        }
        let clientSide = "no lease outstanding, no pool reference left, every pool closed"
        let checked = [connections, server].compactMap { $0 }.joined(separator: "; ")
        if leaks.ok { return "no leaks: \(clientSide); \(checked)" }
        var parts: [String] = []
        for lease in leaks.outstandingLeases {
            parts.append("lease held by \(lease.job) at \(lease.callSite) for \(seconds(lease.heldS))")
        }
        for reference in leaks.activeReferences { parts.append("reference of \(reference.holder) not released") }
        for pool in leaks.openPools { parts.append("pool \(pool) not closed") }
        if let open = leaks.clientConnectionsOpen, open > 0, let connections { parts.append(connections) }
        // Clean on the client, but the server could not say: the verdict is unknown, not a leak found.
        if parts.isEmpty, leaks.serverCheckError != nil { return "leak check incomplete: \(clientSide); \(checked)" }
        parts.append(server)
        return "LEAK: " + parts.joined(separator: "; ")
    }

    private func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }
    private func milliseconds(_ value: Double) -> String { String(format: "%.1f ms", value) }
}
