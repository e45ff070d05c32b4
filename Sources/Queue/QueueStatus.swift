import Batch
import Foundation
import MemoryStore
import Postgres

/// What `worker status` shows: per batch, its jobs by state (and where the running ones run), their attempts and
/// pool usage, and the leak verdict of every drain that ran one of them.
public struct QueueStatus: Sendable, Codable {
    public var batches: [Batch]

    public struct Batch: Sendable, Codable {
        public var id: Int64
        public var name: String
        public var enqueuedAt: Date
        public var enqueuedBy: String
        public var files: [String]
        /// Jobs per state; every state appears, with 0 when none is in it.
        public var states: [String: Int]
        public var jobs: [Job]
        public var drains: [Drain]

        enum CodingKeys: String, CodingKey {
            case id, name, files, states, jobs, drains
            case enqueuedAt = "enqueued_at"
            case enqueuedBy = "enqueued_by"
        }
    }

    public struct Job: Sendable, Codable {
        public var name: String
        public var kind: String
        /// queued, running, done, failed, dead or skipped.
        public var state: String
        public var attempts: Int
        public var maxAttempts: Int
        /// The drain that runs it (running) or ran its last attempt.
        public var drain: Int64?
        public var host: String?
        public var pid: Int?
        /// Seconds since the running drain's last heartbeat.
        public var heartbeatAgeS: Double?
        /// When a queued job that failed may be tried again.
        public var retryAt: Date?
        public var finishedAt: Date?
        public var lastError: String?
        /// The last attempt's pool usage, as the drain's report gave it.
        public var poolUsage: PoolUsage?

        enum CodingKeys: String, CodingKey {
            case name, kind, state, attempts, drain, host, pid
            case maxAttempts = "max_attempts"
            case heartbeatAgeS = "heartbeat_age_s"
            case retryAt = "retry_at"
            case finishedAt = "finished_at"
            case lastError = "last_error"
            case poolUsage = "pool_usage"
        }
    }

    public struct Drain: Sendable, Codable {
        public var id: Int64
        public var host: String
        public var pid: Int
        public var applicationName: String
        public var startedAt: Date
        /// Nil while it runs (or when it was killed before it could record its end).
        public var finishedAt: Date?
        public var exitStatus: Int?
        /// The drain's leak check; nil until it ended.
        public var leaksOK: Bool?
        public var leaks: BatchReport.Leaks?

        enum CodingKeys: String, CodingKey {
            case id, host, pid, leaks
            case applicationName = "application_name"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case exitStatus = "exit_status"
            case leaksOK = "leaks_ok"
        }
    }

    static let states = ["queued", "running", "done", "failed", "dead", "skipped"]

    /// Reads the status of every batch, or of the one named `batch` (its name, or its id).
    public static func read(_ batch: String?, store: MemoryStore, on connection: PostgresConnection) async throws
        -> QueueStatus
    {
        let schema = try QueueSchema(store: store)
        guard try await connection.relationExists(schema.prefix + "queue_jobs") else { return QueueStatus(batches: []) }
        let decoder = JSONDecoder()
        let batchRows = try await connection.query(
            """
            SELECT id, name, enqueued_at, enqueued_by, files FROM \(schema.batches)
            WHERE $1::text IS NULL OR name = $1::text OR id::text = $1::text
            ORDER BY id
            """,
            [batch])
        var batches: [Batch] = try batchRows.rows.map { row in
            let (id, name, at, by, files) = try row.decode((Int64, String, Date, String, TextArray).self)
            return Batch(
                id: id, name: name, enqueuedAt: at, enqueuedBy: by, files: files.elements.compactMap { $0 },
                states: Dictionary(uniqueKeysWithValues: states.map { ($0, 0) }), jobs: [], drains: [])
        }
        let ids = batches.map { "\($0.id)" }
        let jobRows = try await connection.query(
            """
            SELECT j.batch_id, j.name, j.kind, j.state, j.attempts, j.max_attempts, j.drain_id, d.host, d.pid,
                   CASE WHEN j.state = 'running' THEN extract(epoch FROM now() - j.heartbeat_at)::float8 END,
                   CASE WHEN j.state = 'queued' AND j.run_after > now() THEN j.run_after END,
                   j.finished_at, j.last_error, (j.report -> 'pool_usage')::text
            FROM \(schema.jobs) j LEFT JOIN \(schema.drains) d ON d.id = j.drain_id
            WHERE j.batch_id::text = ANY ($1::text[])
            ORDER BY j.batch_id, j.position
            """,
            [TextArray(ids)])
        for row in jobRows.rows {
            let (batchID, name, kind, state, attempts, maxAttempts, drain, host, pid) = try row.decode(
                (Int64, String, String, String, Int, Int, Int64?, String?, Int?).self)
            let heartbeatAge = try row.decode(9, as: Double?.self)
            let retryAt = try row.decode(10, as: Date?.self)
            let finishedAt = try row.decode(11, as: Date?.self)
            let lastError = try row.decode(12, as: String?.self)
            let usage = try row.decode(13, as: String?.self).flatMap {
                try? decoder.decode(PoolUsage.self, from: Data($0.utf8))
            }
            guard let index = batches.firstIndex(where: { $0.id == batchID }) else { continue }
            batches[index].states[state, default: 0] += 1
            batches[index].jobs.append(
                Job(
                    name: name, kind: kind, state: state, attempts: attempts, maxAttempts: maxAttempts, drain: drain,
                    host: host, pid: pid, heartbeatAgeS: heartbeatAge, retryAt: retryAt, finishedAt: finishedAt,
                    lastError: lastError, poolUsage: usage))
        }
        let drainRows = try await connection.query(
            """
            WITH used AS (
                SELECT j.batch_id, a.drain_id FROM \(schema.attempts) a JOIN \(schema.jobs) j ON j.id = a.job_id
                UNION
                SELECT j.batch_id, j.drain_id FROM \(schema.jobs) j WHERE j.drain_id IS NOT NULL
            )
            SELECT u.batch_id, d.id, d.host, d.pid, d.application_name, d.started_at, d.finished_at, d.exit_status,
                   d.leaks_ok, d.leaks::text
            FROM used u JOIN \(schema.drains) d ON d.id = u.drain_id
            WHERE u.batch_id::text = ANY ($1::text[])
            ORDER BY u.batch_id, d.id
            """,
            [TextArray(ids)])
        for row in drainRows.rows {
            let (batchID, id, host, pid, application, startedAt) = try row.decode(
                (Int64, Int64, String, Int, String, Date).self)
            let finishedAt = try row.decode(6, as: Date?.self)
            let exitStatus = try row.decode(7, as: Int?.self)
            let leaksOK = try row.decode(8, as: Bool?.self)
            let leaks = try row.decode(9, as: String?.self).flatMap {
                try? decoder.decode(BatchReport.Leaks.self, from: Data($0.utf8))
            }
            guard let index = batches.firstIndex(where: { $0.id == batchID }) else { continue }
            batches[index].drains.append(
                Drain(
                    id: id, host: host, pid: pid, applicationName: application, startedAt: startedAt,
                    finishedAt: finishedAt, exitStatus: exitStatus, leaksOK: leaksOK, leaks: leaks))
        }
        return QueueStatus(batches: batches)
    }

    /// For people: per batch a summary line, a line per job, a line per drain.
    public func table() -> String {
        guard !batches.isEmpty else { return "no batch in the queue" }
        let time = ISO8601DateFormatter()
        var lines: [String] = []
        for batch in batches {
            let counts = Self.states.compactMap { state in
                batch.states[state].flatMap { $0 > 0 ? "\($0) \(state)" : nil }
            }
            lines.append(
                "batch \(batch.name) (id \(batch.id)), enqueued \(time.string(from: batch.enqueuedAt)) by "
                    + "\(batch.enqueuedBy): \(batch.jobs.count) jobs: \(counts.joined(separator: ", "))")
            var rows = [["job", "kind", "state", "attempts", "host", "leases", "peak", "wait p95", "note"]]
            for job in batch.jobs {
                let host = job.host.map { host in job.pid.map { "\(host) (pid \($0))" } ?? host } ?? "-"
                var note = job.lastError ?? ""
                if let age = job.heartbeatAgeS { note = String(format: "heartbeat %.0f s ago", age) }
                if let retryAt = job.retryAt { note = "retry at \(time.string(from: retryAt)): " + note }
                rows.append([
                    job.name, job.kind, job.state, "\(job.attempts)/\(job.maxAttempts)", host,
                    job.poolUsage.map { "\($0.leases)" } ?? "-",
                    job.poolUsage.map { "\($0.peakConcurrentLeases)" } ?? "-",
                    job.poolUsage.map { String(format: "%.1f ms", $0.waitMs.p95) } ?? "-",
                    note,
                ])
            }
            lines += Self.aligned(rows)
            for drain in batch.drains {
                var line =
                    "drain \(drain.id) on \(drain.host) (pid \(drain.pid), \(drain.applicationName)), started "
                    + time.string(from: drain.startedAt)
                if let finishedAt = drain.finishedAt {
                    line += ", ended \(time.string(from: finishedAt))"
                    if let exitStatus = drain.exitStatus { line += " with exit \(exitStatus)" }
                    switch drain.leaksOK {
                    case true?: line += "; leak check passed"
                    case false?: line += "; LEAK CHECK FAILED" + (drain.leaks.map { Self.leakSummary($0) } ?? "")
                    case nil: line += "; leak check not recorded"
                    }
                } else {
                    line += "; running, or stopped without recording its end"
                }
                lines.append("  " + line)
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    private static func leakSummary(_ leaks: BatchReport.Leaks) -> String {
        var parts: [String] = []
        if !leaks.outstandingLeases.isEmpty { parts.append("\(leaks.outstandingLeases.count) lease(s) outstanding") }
        if !leaks.activeReferences.isEmpty { parts.append("\(leaks.activeReferences.count) pool reference(s) left") }
        if !leaks.openPools.isEmpty { parts.append("\(leaks.openPools.count) pool(s) open") }
        if let left = leaks.serverConnectionsLeft, left > 0 { parts.append("\(left) server connection(s) left") }
        if let error = leaks.serverCheckError { parts.append(error) }
        return parts.isEmpty ? "" : ": " + parts.joined(separator: ", ")
    }

    private static func aligned(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
    }
}
