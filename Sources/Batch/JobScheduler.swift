/// Runs jobs after the jobs they depend on, at most `parallelJobs` at a time, starting ready jobs in file order.
///
/// A job whose dependency failed or was skipped is skipped, and so on down the line; independent jobs still run.
/// After a shutdown request or cancellation no further job starts; those are reported as not started.
/// Dependencies are known to be acyclic (validation refuses cycles), so every job ends.
struct JobScheduler {
    enum Outcome: Sendable, Equatable {
        case succeeded
        case failed
        /// Not run because `dependency` did not succeed.
        case skipped(dependency: String)
        /// Not run because the batch was interrupted before its turn.
        case notStarted
    }

    struct Node: Sendable {
        var name: String
        var dependsOn: [String]
    }

    let nodes: [Node]
    let parallelJobs: Int
    /// Once requested, no further job starts.
    var shutdown = ShutdownRequest()

    /// Runs `run(index)` for each job that may run; returns every job's outcome, in the jobs' order.
    func run(_ run: @escaping @Sendable (Int) async -> Bool) async -> [Outcome] {
        var outcomes = [Outcome?](repeating: nil, count: nodes.count)
        var running = Set<Int>()
        let index = Dictionary(nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        await withTaskGroup(of: (Int, Bool).self) { group in
            while true {
                settleSkips(&outcomes, index: index)
                if Task.isCancelled || shutdown.isRequested {
                    for job in nodes.indices where outcomes[job] == nil && !running.contains(job) {
                        outcomes[job] = .notStarted
                    }
                } else {
                    for job in nodes.indices where running.count < max(1, parallelJobs) {
                        guard outcomes[job] == nil, !running.contains(job) else { continue }
                        let ready = nodes[job].dependsOn.allSatisfy { name in
                            index[name].map { outcomes[$0] == .succeeded } ?? false
                        }
                        guard ready else { continue }
                        running.insert(job)
                        group.addTask { (job, await run(job)) }
                    }
                }
                guard let (finished, succeeded) = await group.next() else { break }
                running.remove(finished)
                outcomes[finished] = succeeded ? .succeeded : .failed
            }
        }
        settleSkips(&outcomes, index: index)
        return outcomes.map { $0 ?? .notStarted }
    }

    /// Marks as skipped every job waiting on a job that failed, was skipped or never started.
    private func settleSkips(_ outcomes: inout [Outcome?], index: [String: Int]) {
        var changed = true
        while changed {
            changed = false
            for job in nodes.indices where outcomes[job] == nil {
                for name in nodes[job].dependsOn {
                    guard let dependency = index[name], let outcome = outcomes[dependency], outcome != .succeeded
                    else { continue }
                    outcomes[job] = .skipped(dependency: name)
                    changed = true
                    break
                }
            }
        }
    }
}
