import MemoryStore
import Postgres

/// The queue's tables, in the memory store's schema, so the queue and the store it fills live and go together.
///
/// The queue creates them itself, `IF NOT EXISTS`, in one transaction under an advisory lock on the schema: the
/// store's versioned migrations stay the store's, and hosts starting together create the tables once.
package struct QueueSchema: Sendable {
    /// `"schema".`, prefixed to every table name; the schema is a plain identifier (``MemoryStore/validate()``).
    let prefix: String
    let schema: String

    package init(store: MemoryStore) throws {
        try store.validate()
        schema = store.schema
        prefix = "\"" + store.schema + "\"."
    }

    var batches: String { prefix + "queue_batches" }
    var jobs: String { prefix + "queue_jobs" }
    var drains: String { prefix + "queue_drains" }
    var attempts: String { prefix + "queue_attempts" }

    /// The channel a drain listens on and `enqueue` and finished jobs notify: one per store.
    package var channel: String { "memory_worker_queue_" + schema }

    /// Creates what is missing. When the tables are there it runs no DDL at all: even `CREATE INDEX IF NOT EXISTS`
    /// takes a lock on its table, and a drain starting while others claim would take those locks in another order
    /// than their claims do, and deadlock with them (40P01).
    func create(on connection: PostgresConnection) async throws {
        // The last object the script creates: when it exists, so does every other.
        guard try await !connection.relationExists(prefix + "queue_attempts_job") else { return }
        try await connection.transaction { connection in
            try await connection.lockUntilTransactionEnds("memory-worker.queue:" + schema)
            try await connection.execute(script: script)
        }
    }

    private var script: String {
        """
        CREATE TABLE IF NOT EXISTS \(batches) (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL UNIQUE,
            digest text NOT NULL,
            files text[] NOT NULL,
            enqueued_at timestamptz NOT NULL DEFAULT now(),
            enqueued_by text NOT NULL
        );
        CREATE TABLE IF NOT EXISTS \(drains) (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            host text NOT NULL,
            pid int NOT NULL,
            application_name text NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            exit_status int,
            leaks_ok boolean,
            leaks jsonb
        );
        CREATE TABLE IF NOT EXISTS \(jobs) (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            batch_id bigint NOT NULL REFERENCES \(batches) ON DELETE CASCADE,
            position int NOT NULL,
            name text NOT NULL,
            kind text NOT NULL,
            definition jsonb NOT NULL,
            depends_on text[] NOT NULL,
            state text NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'done', 'failed', 'dead', 'skipped')),
            attempts int NOT NULL DEFAULT 0,
            max_attempts int NOT NULL,
            run_after timestamptz NOT NULL DEFAULT now(),
            drain_id bigint REFERENCES \(drains),
            claimed_at timestamptz,
            heartbeat_at timestamptz,
            finished_at timestamptz,
            last_error text,
            report jsonb,
            UNIQUE (batch_id, name)
        );
        CREATE INDEX IF NOT EXISTS queue_jobs_open ON \(jobs) (batch_id, position)
            WHERE state IN ('queued', 'running');
        CREATE TABLE IF NOT EXISTS \(attempts) (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            job_id bigint NOT NULL REFERENCES \(jobs) ON DELETE CASCADE,
            attempt int NOT NULL,
            drain_id bigint NOT NULL REFERENCES \(drains),
            started_at timestamptz NOT NULL,
            finished_at timestamptz NOT NULL DEFAULT now(),
            outcome text NOT NULL,
            error text,
            report jsonb
        );
        CREATE INDEX IF NOT EXISTS queue_attempts_job ON \(attempts) (job_id);
        """
    }
}
