import ConnectionPool
import Foundation
import Jobs
import MemoryStore
import Postgres

/// A batch's jobs stored in PostgreSQL, claimed by any number of drains on any number of hosts.
///
/// A claim is `FOR UPDATE SKIP LOCKED`: drains never wait on each other's claims and never take the same job. A claim
/// is a lease with a heartbeat, not a lock held by an open transaction, so a job may run for hours without a
/// transaction open across it, and a drain that dies (a host lost, `kill -9`) leaves a job that another drain takes
/// once its heartbeat is older than the visibility timeout. Every write about a claimed job names the claim (drain
/// and attempt), so a drain that lost its claim cannot overwrite what the new owner records.
public struct JobQueue: Sendable {
    let schema: QueueSchema
    public let pool: ConnectionPool

    public init(store: MemoryStore, pool: ConnectionPool) throws {
        schema = try QueueSchema(store: store)
        self.pool = pool
    }

    /// The channel `enqueue` and finished jobs notify, for drains that listen.
    public var channel: String { schema.channel }

    /// Creates the queue's tables when they are missing.
    public func prepare() async throws {
        try await pool.withConnection(holder: "queue preparation") { try await schema.create(on: $0) }
    }

    // MARK: Enqueue

    /// What ``enqueue(_:name:files:maxAttempts:by:)`` did.
    public enum Enqueued: Sendable, Equatable {
        case queued(batchID: Int64, name: String, jobs: Int)
        /// A batch of this name with the same jobs is already in the queue; nothing was added.
        case alreadyQueued(batchID: Int64, name: String, enqueuedAt: Date, by: String)
        /// A batch of this name with other jobs is already in the queue; nothing was added.
        case nameTaken(batchID: Int64, name: String, enqueuedAt: Date, by: String)
    }

    /// Stores `jobs` as one batch in one transaction: all of them or none.
    ///
    /// Two batches are the same when their jobs are, whatever folder they were enqueued from: the digest leaves out
    /// the job file's name as typed and the line, and keeps everything a drain runs.
    public func enqueue(
        _ jobs: [Job], name: String, files: [String], maxAttempts: Int, by host: String
    ) async throws -> Enqueued {
        let definitions = jobs.map(JobDefinition.init)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let rows = try String(decoding: encoder.encode(definitions), as: UTF8.self)
        let comparable = definitions.map { definition in
            var definition = definition
            definition.file = ""
            definition.line = 0
            return definition
        }
        let digestSource = try String(decoding: encoder.encode(comparable), as: UTF8.self)
        return try await pool.withConnection(holder: "enqueue") { connection in
            try await connection.transaction { connection in
                let inserted = try await connection.query(
                    """
                    INSERT INTO \(schema.batches) (name, digest, files, enqueued_by)
                    VALUES ($1::text, md5($2::text), $3::text[], $4::text)
                    ON CONFLICT (name) DO NOTHING
                    RETURNING id
                    """,
                    [name, digestSource, TextArray(files), host])
                guard let batchID = try inserted.rows.first?.decode(0, as: Int64.self) else {
                    let existing = try await connection.query(
                        """
                        SELECT id, digest = md5($2::text), enqueued_at, enqueued_by
                        FROM \(schema.batches) WHERE name = $1::text
                        """,
                        [name, digestSource])
                    guard let row = existing.rows.first else {
                        throw QueueError.unexpected("batch \(name) was neither added nor found")
                    }
                    let (id, same, at, by) = try row.decode((Int64, Bool, Date, String).self)
                    return same
                        ? .alreadyQueued(batchID: id, name: name, enqueuedAt: at, by: by)
                        : .nameTaken(batchID: id, name: name, enqueuedAt: at, by: by)
                }
                try await connection.query(
                    """
                    INSERT INTO \(schema.jobs) (batch_id, position, name, kind, definition, depends_on, max_attempts)
                    SELECT $1::int8, e.position::int, e.definition->>'name',
                           CASE WHEN e.definition ? 'ingest' THEN 'ingest' ELSE 'query' END,
                           e.definition,
                           ARRAY(SELECT jsonb_array_elements_text(e.definition->'dependsOn')),
                           $3::int
                    FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e (definition, position)
                    """,
                    [batchID, rows, maxAttempts])
                try await connection.query("SELECT pg_notify($1::text, 'enqueued')", [channel])
                return .queued(batchID: batchID, name: name, jobs: jobs.count)
            }
        }
    }

    // MARK: Drains

    /// Records a drain starting; its id names its claims.
    public func registerDrain(host: String, pid: Int32, applicationName: String) async throws -> Int64 {
        try await pool.withConnection(holder: "drain registration") { connection in
            let result = try await connection.query(
                """
                INSERT INTO \(schema.drains) (host, pid, application_name) VALUES ($1::text, $2::int, $3::text)
                RETURNING id
                """,
                [host, pid, applicationName])
            guard let id = try result.rows.first?.decode(0, as: Int64.self) else {
                throw QueueError.unexpected("the drain was not recorded")
            }
            return id
        }
    }

    /// Records a drain's end: its exit status and its leak check, as JSON (the batch report's `leaks`). On a
    /// connection of the caller's: the drain's pool is closed by then, so that its leak check could find it gone.
    public static func finishDrain(
        _ drain: Int64, exitStatus: Int32, leaksOK: Bool, leaks: String, store: MemoryStore,
        on connection: PostgresConnection
    ) async throws {
        let schema = try QueueSchema(store: store)
        try await connection.query(
            """
            UPDATE \(schema.drains) SET finished_at = now(), exit_status = $2::int, leaks_ok = $3::bool,
                leaks = $4::jsonb
            WHERE id = $1::int8
            """,
            [drain, exitStatus, leaksOK, leaks])
    }

    // MARK: Claims

    /// Claims the first ready job, in batch and file order: queued and due, or running on a drain that stopped
    /// heartbeating `visibilityTimeout` ago; every dependency done. Nil when none is ready.
    public func claim(drain: Int64, visibilityTimeout: Duration) async throws -> Claim? {
        try await pool.withConnection(holder: "queue claim") { connection in
            let result = try await connection.query(
                schema.claimStatement, [drain, visibilityTimeout.seconds])
            guard let row = result.rows.first else { return nil }
            let (id, batchID, batchName, name, definition, attempt, maxAttempts, takenOver) = try row.decode(
                (Int64, Int64, String, String, String, Int, Int, String?).self)
            return Claim(
                jobID: id, batchID: batchID, batchName: batchName, name: name, definition: definition, attempt: attempt,
                maxAttempts: maxAttempts, drain: drain, takenOver: takenOver)
        }
    }

    /// Renews the heartbeat of every job `drain` holds; the claims it still holds (a claim another drain took over
    /// is missing).
    public func heartbeat(drain: Int64) async throws -> Set<ClaimID> {
        try await pool.withConnection(holder: "queue heartbeat") { connection in
            let result = try await connection.query(
                """
                UPDATE \(schema.jobs) SET heartbeat_at = now()
                WHERE drain_id = $1::int8 AND state = 'running'
                RETURNING id, attempts
                """,
                [drain])
            return Set(
                try result.rows.map { row in
                    let (id, attempt) = try row.decode((Int64, Int).self)
                    return ClaimID(jobID: id, attempt: attempt)
                })
        }
    }

    /// Records how a claimed job's attempt ended; false when the claim was no longer this drain's (taken over after
    /// its heartbeat stopped), in which case nothing is written. A job that failed for good takes the jobs that
    /// depend on it, directly or not, to `skipped`.
    public func finish(_ claim: Claim, _ ending: Ending) async throws -> Bool {
        try await pool.withConnection(holder: "queue record") { connection in
            let result = try await connection.query(
                schema.finishStatement,
                [
                    claim.jobID, claim.drain, ending.state, ending.returnsAttempt ? 1 : 0, ending.delay.seconds,
                    ending.error, ending.report, claim.attempt, ending.outcome,
                ])
            let recorded = try result.rows.first?.decode(0, as: Int.self) == 1
            if recorded, ending.mayReadyOthers {
                try await connection.query("SELECT pg_notify($1::text, 'finished')", [channel])
            }
            return recorded
        }
    }

    /// Jobs that are queued (due or not) or running anywhere: work a drain that runs until the queue is empty still
    /// waits for.
    public func openJobs() async throws -> Int {
        try await pool.withConnection(holder: "queue count") { connection in
            let result = try await connection.query(
                "SELECT count(*) FROM \(schema.jobs) WHERE state IN ('queued', 'running')")
            return try result.rows.first?.decode(0, as: Int.self) ?? 0
        }
    }
}

/// A claim's identity: the job and which of its attempts. A job claimed again gets a new attempt number, so an old
/// owner's writes no longer match.
public struct ClaimID: Hashable, Sendable {
    public var jobID: Int64
    public var attempt: Int
}

/// A job a drain claimed.
public struct Claim: Sendable {
    public var jobID: Int64
    public var batchID: Int64
    public var batchName: String
    public var name: String
    /// The job's ``JobDefinition`` as JSON.
    public var definition: String
    /// This attempt's number, 1 for the first.
    public var attempt: Int
    public var maxAttempts: Int
    /// The drain holding the claim.
    public var drain: Int64
    /// Why the job was taken over from another drain, when it was.
    public var takenOver: String?

    public var id: ClaimID { ClaimID(jobID: jobID, attempt: attempt) }
}

/// How an attempt ended, as the queue records it.
public struct Ending: Sendable {
    /// The job's next state.
    var state: String
    /// The attempt's outcome in the job's history.
    var outcome: String
    var error: String?
    /// The job's report (``BatchReport/JobReport``) as JSON.
    var report: String?
    /// How long until a job put back may be claimed again.
    var delay: Duration = .zero
    /// The attempt does not count: the job was handed back unfinished.
    var returnsAttempt = false

    var mayReadyOthers: Bool { state == "done" || state == "queued" }

    public static func done(report: String) -> Ending {
        Ending(state: "done", outcome: "done", report: report)
    }

    /// Put back, to be tried again after `delay`.
    public static func retry(error: String, report: String?, after delay: Duration) -> Ending {
        Ending(state: "queued", outcome: "retry", error: error, report: report, delay: delay)
    }

    /// Failed for a reason another attempt would meet again.
    public static func failed(error: String, report: String?) -> Ending {
        Ending(state: "failed", outcome: "failed", error: error, report: report)
    }

    /// Failed for a reason that may pass, with every attempt spent.
    public static func dead(error: String, report: String?) -> Ending {
        Ending(state: "dead", outcome: "dead", error: error, report: report)
    }

    /// Handed back unfinished (the drain is stopping); the attempt does not count.
    public static func released(report: String?) -> Ending {
        Ending(
            state: "queued", outcome: "released", error: "released unfinished by a stopping drain", report: report,
            returnsAttempt: true)
    }
}

public enum QueueError: Error, CustomStringConvertible {
    case unexpected(String)

    public var description: String {
        switch self {
        case .unexpected(let what): "the job queue is not as expected: \(what)"
        }
    }
}
