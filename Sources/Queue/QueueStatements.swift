import MemoryStore

/// The two statements a drain runs around every job it claims, here rather than inline in ``JobQueue`` so that `make
/// bench` (its queue item) can run the very same text with pgbench against the same tables.
extension QueueSchema {
    /// Claims the first ready job, in batch and file order: queued and due, or running on a drain that stopped
    /// heartbeating; every dependency done. A job taken over gets a `lost` attempt for its previous drain.
    ///
    /// `$1::int8` the claiming drain, `$2::float8` the visibility timeout in seconds. Returns the job's id, batch id,
    /// batch name, name, definition, attempt (`attempts`), `max_attempts` and why it was taken over; no row when no
    /// job is ready.
    package var claimStatement: String {
        """
        WITH candidate AS (
            SELECT j.id, j.state AS previous_state, j.drain_id AS previous_drain,
                   j.claimed_at AS previous_claimed_at, j.heartbeat_at AS previous_heartbeat
            FROM \(jobs) j
            WHERE ((j.state = 'queued' AND j.run_after <= now())
                OR (j.state = 'running' AND j.heartbeat_at < now() - make_interval(secs => $2::float8)))
              AND NOT EXISTS (
                  SELECT 1 FROM \(jobs) d
                  WHERE d.batch_id = j.batch_id AND d.name = ANY (j.depends_on) AND d.state <> 'done')
            ORDER BY j.batch_id, j.position
            LIMIT 1
            FOR UPDATE OF j SKIP LOCKED
        ), lost AS (
            INSERT INTO \(attempts) (job_id, attempt, drain_id, started_at, outcome, error)
            SELECT c.id, j.attempts, c.previous_drain, c.previous_claimed_at, 'lost',
                   format('drain %s on host %s (pid %s) stopped heartbeating at %s; taken over',
                          dr.id, dr.host, dr.pid, c.previous_heartbeat)
            FROM candidate c
            JOIN \(jobs) j ON j.id = c.id
            JOIN \(drains) dr ON dr.id = c.previous_drain
            WHERE c.previous_state = 'running'
            RETURNING error
        )
        UPDATE \(jobs) j
        SET state = 'running', attempts = j.attempts + 1, drain_id = $1::int8, claimed_at = now(),
            heartbeat_at = now(), run_after = now(),
            last_error = COALESCE((SELECT error FROM lost), j.last_error)
        FROM candidate c
        WHERE j.id = c.id
        RETURNING j.id, j.batch_id, (SELECT b.name FROM \(batches) b WHERE b.id = j.batch_id),
                  j.name, j.definition::text, j.attempts, j.max_attempts, (SELECT error FROM lost)
        """
    }

    /// Records how a claimed job's attempt ended, if the claim is still the drain's, and takes the jobs that depend
    /// on a job that failed for good to `skipped`; returns the number of jobs recorded (1, or 0 for a lost claim).
    ///
    /// `$1::int8` the job, `$2::int8` the drain, `$3::text` the job's next state, `$4::int` 1 when the attempt is
    /// handed back (it does not count), `$5::float8` seconds until it may be claimed again, `$6::text` the error,
    /// `$7::jsonb` the job's report, `$8::int` the attempt, `$9::text` the attempt's outcome.
    package var finishStatement: String {
        """
        WITH RECURSIVE finished AS (
            UPDATE \(jobs) j
            SET state = $3::text, attempts = j.attempts - $4::int,
                run_after = now() + make_interval(secs => $5::float8),
                finished_at = CASE WHEN $3::text IN ('done', 'failed', 'dead') THEN now() END,
                heartbeat_at = NULL, last_error = $6::text, report = COALESCE($7::jsonb, j.report)
            WHERE j.id = $1::int8 AND j.drain_id = $2::int8 AND j.attempts = $8::int AND j.state = 'running'
            RETURNING j.id, j.batch_id, j.name, j.claimed_at
        ), attempt AS (
            INSERT INTO \(attempts) (job_id, attempt, drain_id, started_at, outcome, error, report)
            SELECT f.id, $8::int, $2::int8, f.claimed_at, $9::text, $6::text, $7::jsonb FROM finished f
        ), doomed (name) AS (
            SELECT f.name FROM finished f WHERE $3::text IN ('failed', 'dead')
            UNION
            SELECT d.name FROM \(jobs) d JOIN doomed ON doomed.name = ANY (d.depends_on)
            WHERE d.batch_id = (SELECT f.batch_id FROM finished f)
        ), skipped AS (
            UPDATE \(jobs) d
            SET state = 'skipped', finished_at = now(),
                last_error = format('skipped: depends on %s, which is %s', (SELECT f.name FROM finished f), $3::text)
            WHERE d.batch_id = (SELECT f.batch_id FROM finished f) AND d.state = 'queued'
              AND d.name IN (SELECT name FROM doomed)
        )
        SELECT count(*) FROM finished
        """
    }
}
