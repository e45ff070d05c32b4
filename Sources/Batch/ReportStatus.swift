/// How a job ended, as the report's `jobs[].status` spells it.
public enum JobStatus: String, Sendable, Codable {
    case ok
    case failed
    /// A dependency did not succeed.
    case skipped
    /// A shutdown stopped it mid-way.
    case interrupted
    /// A shutdown came first, or the store could not be prepared.
    case notStarted = "not_started"
}

/// How the batch ended, as the report's `batch.status` spells it.
public enum BatchStatus: String, Sendable, Codable {
    case ok
    case failed
    /// A signal stopped it; re-running finishes the rest exactly once.
    case interrupted
    /// The database could not be reached to prepare the store; no job ran.
    case unreachable
}
