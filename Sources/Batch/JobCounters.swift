import Jobs
import Support

/// A running job's counters, which a live progress display polls while the job updates them: the job's own
/// outcome (items done) and its source file's read position, no copies.
public final class JobCounters: Sendable {
    private struct State {
        var outcome: Locked<JobOutcome>?
        var source: SourceProgress?
    }

    private let state = Locked(State())

    init() {}

    /// Called once the job has opened its source.
    func attach(_ outcome: Locked<JobOutcome>, source: SourceProgress?) {
        state.withLock { $0 = State(outcome: outcome, source: source) }
    }

    /// Messages (ingest) or queries (query) done so far.
    public var items: Int {
        state.withLock { $0.outcome }?.withLock { $0.items } ?? 0
    }

    /// How far the job's source file has been read; nil for a source written in the job file.
    public var source: SourceProgress? {
        state.withLock { $0.source }
    }
}
