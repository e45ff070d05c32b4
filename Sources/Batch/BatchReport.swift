import BuildInfo
import ConnectionPool
import Foundation

/// What a batch did, as `--report json` prints it and `--report-file` writes it: one document for CI to read.
///
/// An interface: `docs/report.schema.json` describes every field, and a test validates real reports against it.
public struct BatchReport: Sendable, Codable {
    /// Changes only when a field is removed or changes meaning (a new field does not change it); the schema's
    /// `schema_version` is the same number.
    public static let schemaVersion = 1

    public var schemaVersion = Self.schemaVersion
    /// The worker that wrote the report (``BuildInfo/version``).
    public var workerVersion = BuildInfo.version
    public var batch: Summary
    /// Statistics of each pool the batch used, keyed by masked URL, taken after the pool closed.
    public var pools: [String: PoolStatistics]
    public var jobs: [JobReport]
    public var leaks: Leaks

    enum CodingKeys: String, CodingKey {
        case batch, pools, jobs, leaks
        case schemaVersion = "schema_version"
        case workerVersion = "worker_version"
    }

    public struct Summary: Sendable, Codable {
        public var id: String
        public var startedAt: Date
        public var finishedAt: Date
        public var durationS: Double
        public var status: BatchStatus
        public var jobsTotal: Int
        public var jobsOK: Int
        public var jobsFailed: Int
        /// Jobs a shutdown stopped before their source was done.
        public var jobsInterrupted = 0
        /// Jobs that did not run: a dependency did not succeed, or the batch stopped before their turn.
        public var jobsSkipped: Int
        /// The process's peak resident memory so far (Linux's `VmHWM`), for spotting a batch that grows with its input.
        public var peakRSSMB: Double?
        /// Why no job ran, when the memory store could not be prepared or the batch lock taken; or why no further job
        /// started, when the batch lock was lost.
        public var failure: Failure?

        enum CodingKeys: String, CodingKey {
            case id, status
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case durationS = "duration_s"
            case jobsTotal = "jobs_total"
            case jobsOK = "jobs_ok"
            case jobsFailed = "jobs_failed"
            case jobsInterrupted = "jobs_interrupted"
            case jobsSkipped = "jobs_skipped"
            case peakRSSMB = "peak_rss_mb"
            case failure
        }
    }

    /// Why a batch stopped before its jobs: what kind of failure (which sets the exit status), what happened, and
    /// what to do about it.
    public struct Failure: Sendable, Codable {
        public var kind: FailureKind
        public var reason: String
        public var sqlState: String?
        public var hint: String?

        public init(kind: FailureKind, reason: String, sqlState: String? = nil, hint: String? = nil) {
            self.kind = kind
            self.reason = reason
            self.sqlState = sqlState
            self.hint = hint
        }

        enum CodingKeys: String, CodingKey {
            case kind, reason, hint
            case sqlState = "sqlstate"
        }
    }

    public struct JobReport: Sendable, Codable {
        public var name: String
        public var file: String
        public var kind: String
        /// `skipped` and `not_started` count as skipped in the batch summary.
        public var status: JobStatus
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
        /// Backends named like this batch's connections on the server when the batch started (other programs'
        /// included): context, not part of the verdict.
        public var serverConnectionsBefore: Int?
        /// How many backends the batch's pool opened (replacements included), all of which the server was asked
        /// about after the pool closed; nil when it could not be asked.
        public var serverBackendsChecked: Int?
        /// Those still on the server, and their process ids; nil when the server could not be asked.
        public var serverConnectionsLeft: Int?
        public var serverBackendsLeft: [Int32]?
        /// Why the server could not be asked (`not checked: …`); the verdict is then unknown and `ok` false.
        public var serverCheckError: String?
        /// How many connections the batch's pool opened (replacements included), each of which must be closed once
        /// the pool is: the client's side of the check, which needs no server.
        public var clientConnectionsChecked: Int?
        /// Those still open after the pool closed.
        public var clientConnectionsOpen: Int?
        /// The pool's connections went through a connection pooler (PgBouncer): the process ids libpq had are the
        /// pooler's keys, and the server connections behind it are the pooler's to keep, so the server's
        /// `pg_stat_activity` is not asked (`server_backends_checked` is nil); the pooler's admin console is.
        public var throughPooler: Bool?
        /// The connections of this process that the pooler's admin console (`SHOW CLIENTS`) still lists after the
        /// pool closed; nil when it was not asked.
        public var poolerClientsLeft: Int?
        /// Why the pooler's admin console could not be asked (e.g. the user is not in its `admin_users` or
        /// `stats_users`): only the client's side was checked then.
        public var poolerCheckError: String?

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
            case serverBackendsChecked = "server_backends_checked"
            case serverConnectionsLeft = "server_connections_left"
            case serverBackendsLeft = "server_backends_left"
            case serverCheckError = "server_check_error"
            case clientConnectionsChecked = "client_connections_checked"
            case clientConnectionsOpen = "client_connections_open"
            case throughPooler = "through_pooler"
            case poolerClientsLeft = "pooler_clients_left"
            case poolerCheckError = "pooler_check_error"
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
    /// The exit status cron and CI read: when the store could not be prepared, its failure's; a job failed because the
    /// database stayed unreachable (cron may retry); a job failed, was interrupted, skipped or never started; the leak
    /// check did not pass (success with a warning when `failOnLeak` is off); else success. Failures win over a leak:
    /// they are what an operator must fix first.
    public func exitStatus(failOnLeak: Bool) -> ExitStatus {
        if let failure = batch.failure { return failure.kind.exitStatus }
        if jobs.contains(where: { $0.status == .failed && $0.databaseUnavailable }) { return .databaseUnavailable }
        if batch.jobsFailed + batch.jobsInterrupted + batch.jobsSkipped > 0 { return .failure }
        if !leaks.ok, failOnLeak { return .leak }
        return .success
    }
}
