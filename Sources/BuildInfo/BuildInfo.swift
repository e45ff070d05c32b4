/// What this build of the worker is, for `worker --version` and the report's `worker_version`.
public enum BuildInfo {
    /// The worker's version: its major number changes when a command, an exit status or the report changes
    /// incompatibly (the report also carries its own `schema_version`).
    public static let version = "0.1.0"

    /// The git commit built, with `-dirty` when tracked files differed from it; nil when not built from a checkout
    /// (written by the GitCommit build-tool plugin).
    public static let commit = gitCommit

    /// What `worker --version` prints: `0.1.0 (git 1a2b3c…)`, or the version alone.
    public static var versionLine: String {
        commit.map { "\(version) (git \($0))" } ?? version
    }
}
