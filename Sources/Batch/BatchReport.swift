import ConnectionPool
import Foundation

/// What a batch did, as `--report json` prints it and `--report-file` writes it: one document for CI to read.
public struct BatchReport: Sendable, Codable {
    public var batch: Summary
    /// Statistics of each pool the batch used, keyed by masked URL, taken after the pool closed.
    public var pools: [String: PoolStatistics]
    public var jobs: [JobReport]
    public var leaks: Leaks

    public struct Summary: Sendable, Codable {
        public var id: String
        public var startedAt: Date
        public var finishedAt: Date
        public var durationS: Double
        /// `ok`, `failed` or `interrupted` (a signal stopped it; re-running finishes the rest exactly once).
        public var status: String
        public var jobsTotal: Int
        public var jobsOK: Int
        public var jobsFailed: Int
        public var jobsSkipped: Int
        /// The process's peak resident memory so far (getrusage), for spotting a batch that grows with its input.
        public var peakRSSMB: Double?

        enum CodingKeys: String, CodingKey {
            case id, status
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case durationS = "duration_s"
            case jobsTotal = "jobs_total"
            case jobsOK = "jobs_ok"
            case jobsFailed = "jobs_failed"
            case jobsSkipped = "jobs_skipped"
            case peakRSSMB = "peak_rss_mb"
        }
    }

    public struct JobReport: Sendable, Codable {
        public var name: String
        public var file: String
        public var kind: String
        /// `ok`, `failed`, `skipped` (a dependency did not succeed), `interrupted` or `not_started` (a shutdown came
        /// first); the last three count as skipped in the batch summary.
        public var status: String
        public var error: String?
        public var durationS: Double
        public var tasks: Int
        /// Messages read (ingest) or queries run (query).
        public var items: Int
        public var inserted: Int?
        public var duplicates: Int?
        public var chunks: Int?
        public var hits: Int?
        public var badRecords: Int
        /// The first bad records, as `file:line: reason`.
        public var badRecordList: [String]
        /// Units retried after a passing failure (lost connection, server restart, deadlock).
        public var retries: Int
        /// The job failed because the database stayed unreachable through every retry.
        public var databaseUnavailable: Bool
        public var poolUsage: PoolUsage?

        enum CodingKeys: String, CodingKey {
            case name, file, kind, status, error, tasks, items, inserted, duplicates, chunks, hits
            case durationS = "duration_s"
            case badRecords = "bad_records"
            case badRecordList = "bad_record_list"
            case retries
            case databaseUnavailable = "database_unavailable"
            case poolUsage = "pool_usage"
        }
    }

    public struct Leaks: Sendable, Codable {
        public var ok: Bool
        public var outstandingLeases: [Lease]
        public var activeReferences: [Reference]
        public var openPools: [String]
        /// Backends of this process's pools on the server when the batch started and after it ended.
        public var serverConnectionsBefore: Int?
        public var serverConnectionsAfter: Int?
        /// Why the server could not be asked, when it could not.
        public var serverCheckError: String?

        public struct Lease: Sendable, Codable {
            public var pool: String
            public var job: String
            public var callSite: String
            public var heldS: Double

            enum CodingKeys: String, CodingKey {
                case pool, job
                case callSite = "call_site"
                case heldS = "held_s"
            }
        }

        public struct Reference: Sendable, Codable {
            public var pool: String
            public var holder: String
        }

        enum CodingKeys: String, CodingKey {
            case ok
            case outstandingLeases = "outstanding_leases"
            case activeReferences = "active_references"
            case openPools = "open_pools"
            case serverConnectionsBefore = "server_connections_before"
            case serverConnectionsAfter = "server_connections_after"
            case serverCheckError = "server_check_error"
        }
    }

    /// The report as pretty-printed JSON with ISO 8601 times.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

extension BatchReport {
    /// The exit status cron and CI read: 0 all jobs ok and no leak; 75 a job failed because the database stayed
    /// unreachable (cron may retry); 1 a job failed, was skipped or never started; 3 a leak was found (0 with a
    /// warning when `failOnLeak` is off). Failed jobs win over a leak: they are what an operator must fix first.
    public func exitStatus(failOnLeak: Bool) -> Int32 {
        if jobs.contains(where: { $0.status == "failed" && $0.databaseUnavailable }) { return 75 }
        if batch.jobsFailed + batch.jobsSkipped > 0 { return 1 }
        if !leaks.ok, failOnLeak { return 3 }
        return 0
    }
}
