/// What this build of the worker is, for `worker --version` and the report's `worker_version`.
public enum BuildInfo {
    /// The worker's version: its major number changes when a command, an exit status or the report changes
    /// incompatibly (the report also carries its own `schema_version`).
    public static let version = "0.1.0"
}
