/// The exit statuses cron and CI read, as the README's table documents them; the one place their numbers are written.
public enum ExitStatus: Int32, Sendable {
    /// All jobs ok and no leak.
    case success = 0
    /// A job failed, was interrupted or skipped, or the store could not be prepared for a reason retrying cannot fix.
    case failure = 1
    /// Invalid input or configuration; nothing was run.
    case invalidInput = 2
    /// The leak check did not pass: a leak was found, or the server could not be asked.
    case leak = 3
    /// sysexits' EX_TEMPFAIL: the database could not be reached, or kept failing for reasons that may pass; or
    /// another run of the same batch holds its lock (`worker run`), so nothing ran. Cron may retry.
    case databaseUnavailable = 75
}
