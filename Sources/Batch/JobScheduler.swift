/// Runs jobs after the jobs they depend on, at most `parallelJobs` at a time, starting ready jobs in file order.
///
/// A job whose dependency failed or was skipped is skipped, and so on down the line; independent jobs still run.
/// After a shutdown request, cancellation or a lost batch lock no further job starts; those are reported as not
/// started.
/// Dependencies are known to be acyclic (validation refuses cycles), so every job ends.
///
/// Each job that ran hands back its `Result` (what it did), which its ``Outcome`` carries to the caller.
struct JobScheduler<Result: Sendable> {
    enum Outcome: Sendable {
        case succeeded(Result)
        case failed(Result)
        /// Not run because `dependency` did not succeed.
        case skipped(dependency: String)
        /// Not run because the batch was interrupted before its turn.
        case notStarted

        /// What the job did, if it ran.
        var result: Result? {
            switch self {
            case .succeeded(let result), .failed(let result): result
            case .skipped, .notStarted: nil
            }
        }

        var succeeded: Bool {
            if case .succeeded = self { true } else { false }
        }
    }

    /// What one job hands back: what it did, and whether its dependents may run.
    struct Run: Sendable {
        var result: Result
        var succeeded: Bool
    }

    struct Node: Sendable {
        var name: String
        var dependsOn: [String]
    }

    let nodes: [Node]
    let parallelJobs: Int
    /// Once requested, no further job starts.
    var shutdown = ShutdownRequest()
    /// Once true, no further job starts either: the batch lock was lost, so another run may be doing these jobs.
    var halted: @Sendable () -> Bool = { false }

    /// Runs `run(index)` for each job that may run; returns every job's outcome, in the jobs' order.
    func run(_ run: @escaping @Sendable (Int) async -> Run) async -> [Outcome] {
        var outcomes = [Outcome?](repeating: nil, count: nodes.count)
        var running = Set<Int>()
        let index = Dictionary(nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        await withTaskGroup(of: (Int, Run).self) { group in
            while true {
                settleSkips(&outcomes, index: index)
                if Task.isCancelled || shutdown.isRequested || halted() {
                    for job in nodes.indices where outcomes[job] == nil && !running.contains(job) {
                        outcomes[job] = .notStarted
                    }
                } else {
                    for job in nodes.indices where running.count < max(1, parallelJobs) {
                        guard outcomes[job] == nil, !running.contains(job) else { continue }
                        let ready = nodes[job].dependsOn.allSatisfy { name in
                            index[name].map { outcomes[$0]?.succeeded == true } ?? false
                        }
                        guard ready else { continue }
                        running.insert(job)
                        group.addTask { (job, await run(job)) }
                    }
                }
                guard let (finished, ran) = await group.next() else { break }
                running.remove(finished)
                outcomes[finished] = ran.succeeded ? .succeeded(ran.result) : .failed(ran.result)
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
                    guard let dependency = index[name], let outcome = outcomes[dependency], !outcome.succeeded
                    else { continue }
                    outcomes[job] = .skipped(dependency: name)
                    changed = true
                    break
                }
            }
        }
    }
}

extension JobScheduler.Outcome: Equatable where Result: Equatable {}
