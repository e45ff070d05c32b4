import Foundation
import Glibc

/// A child process that ran to its end, with what the kernel accounted to it alone.
struct ChildProcess: Sendable {
    var exitStatus: Int32
    /// The signal that ended the process, if one did.
    var signal: Int32?
    var wallSeconds: Double
    /// `ru_maxrss` from `wait4`: the child's peak resident set size, or the spawning process's if that was larger
    /// (Linux carries the high-water mark across exec).
    var peakRSSBytes: Int
    var userCPUSeconds: Double
    var systemCPUSeconds: Double
    /// Voluntary plus involuntary context switches of the child.
    var contextSwitches: Int
    var stdoutPath: String
    var stderrPath: String

    var succeeded: Bool { signal == nil && exitStatus == 0 }

    /// What the process wrote to stdout (empty if the file cannot be read).
    func standardOutput() -> String {
        (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
    }

    /// The last lines the process wrote to stderr, for error messages.
    func standardErrorTail(lines: Int = 12) -> String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }

    /// "exit status N" or "signal N", for error messages.
    var ending: String { signal.map { "signal \($0)" } ?? "exit status \(exitStatus)" }
}

/// Runs programs with `posix_spawn` and reaps them with `wait4`.
///
/// Not Foundation's `Process`: it reaps with `waitpid` and so throws the child's resource usage away. `wait4` returns
/// the `rusage` of exactly the child it reaps: its CPU times, and a `ru_maxrss` that is the larger of the child's
/// peak and the bench's own at the spawn (Linux keeps the high-water mark across exec), which is why the worker's
/// memory comes from its report (`VmHWM`) instead. The children's output goes to files next to the bench's other
/// temporary files, so nothing is lost to a full pipe.
enum Subprocess {
    static func run(
        executable: String,
        arguments: [String],
        environment: [String: String],
        logPrefix: URL
    ) async throws -> ChildProcess {
        let stdoutPath = logPrefix.path + ".out"
        let stderrPath = logPrefix.path + ".err"
        var actions = posix_spawn_file_actions_t()
        guard posix_spawn_file_actions_init(&actions) == 0 else { throw BenchError("posix_spawn_file_actions_init") }
        defer { posix_spawn_file_actions_destroy(&actions) }
        let flags = O_WRONLY | O_CREAT | O_TRUNC
        guard posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) == 0,
            posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, flags, 0o644) == 0,
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, flags, 0o644) == 0
        else { throw BenchError("cannot set up the output files of \(executable)") }

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid = pid_t()
        let started = ContinuousClock.now
        let spawned = (argv + [nil]).withUnsafeBufferPointer { arguments in
            (envp + [nil]).withUnsafeBufferPointer { variables in
                guard let arguments = arguments.baseAddress, let variables = variables.baseAddress else {
                    return EINVAL
                }
                return posix_spawn(&pid, executable, &actions, nil, arguments, variables)
            }
        }
        guard spawned == 0 else {
            throw BenchError("cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        let reaped = try await reap(pid)
        let (seconds, attoseconds) = (reaped.ended - started).components
        // The wait status, decoded as WIFEXITED/WEXITSTATUS/WTERMSIG do (Swift does not import those macros).
        let signal = reaped.status & 0x7f
        return ChildProcess(
            exitStatus: signal == 0 ? (reaped.status >> 8) & 0xff : 128 + signal,
            signal: signal == 0 ? nil : signal,
            wallSeconds: Double(seconds) + Double(attoseconds) / 1e18,
            peakRSSBytes: reaped.maxRSSKiB * 1024,
            userCPUSeconds: reaped.userSeconds,
            systemCPUSeconds: reaped.systemSeconds,
            contextSwitches: reaped.contextSwitches,
            stdoutPath: stdoutPath,
            stderrPath: stderrPath
        )
    }

    private struct Reaped: Sendable {
        var status: Int32
        var ended: ContinuousClock.Instant
        var maxRSSKiB: Int
        var userSeconds: Double
        var systemSeconds: Double
        var contextSwitches: Int
    }

    /// Waits for `pid` on a thread of its own: `wait4` blocks, and a blocked thread of Swift's cooperative pool
    /// would stall the pool benchmarks' tasks.
    private static func reap(_ pid: pid_t) async throws -> Reaped {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Reaped, BenchError>, Never>) in
            Thread.detachNewThread {
                var status: Int32 = 0
                var usage = rusage()
                var waited: pid_t
                repeat {
                    waited = wait4(pid, &status, 0, &usage)
                } while waited == -1 && errno == EINTR
                let ended = ContinuousClock.now
                guard waited == pid else {
                    let reason = String(cString: strerror(errno))
                    continuation.resume(returning: .failure(BenchError("wait4(\(pid)) failed: \(reason)")))
                    return
                }
                continuation.resume(
                    returning: .success(
                        Reaped(
                            status: status,
                            ended: ended,
                            maxRSSKiB: usage.ru_maxrss,
                            userSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
                            systemSeconds: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6,
                            contextSwitches: usage.ru_nvcsw + usage.ru_nivcsw
                        )))
            }
        }
        return try result.get()
    }
}

/// The environment for child programs: the bench's own, without any variable that could point a child at another
/// database, pool size or store than the one under test (`PG*`, `POSTGRES_*`, `DATABASE_*`, `STORE_*`, `WORKER_*`),
/// plus `DATABASE_URL` and whatever the caller adds.
func childEnvironment(databaseURL: String, adding extra: [String: String] = [:]) -> [String: String] {
    let foreign = ["PG", "POSTGRES_", "DATABASE_", "STORE_", "WORKER_"]
    var environment = ProcessInfo.processInfo.environment.filter { name, _ in
        !foreign.contains { name.hasPrefix($0) }
    }
    environment["DATABASE_URL"] = databaseURL
    environment.merge(extra) { _, new in new }
    return environment
}
