import Foundation
import Support

/// Runs the built `worker` executable as a child process, the way cron, CI and people run it.
///
/// `swift test` builds `worker` because this test target depends on it, and puts it next to the test bundle; set
/// `WORKER_EXECUTABLE` to test another build. Output goes to temporary files rather than pipes, so a child that
/// writes more than a pipe holds can never deadlock against a parent that reads only after it exits.
enum WorkerProcess {
    struct Output: Sendable {
        /// The exit code; 128 + the signal number for a child killed by a signal, as shells report it.
        var status: Int32
        var stdout: String
        var stderr: String

        /// Both streams, for checks that something appears in neither.
        var combined: String { stdout + stderr }
        /// Standard output's lines, without their newlines (a last line without one included).
        var stdoutLines: [Substring] {
            var lines = stdout.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() }
            return lines
        }
    }

    struct NotFound: Error, CustomStringConvertible {
        var searched: [String]
        var description: String {
            "worker executable not found (looked at \(searched.joined(separator: ", "))); build it with "
                + "`swift build --product worker` or set WORKER_EXECUTABLE"
        }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var arguments: [String]
        var timeout: Duration
        var description: String { "worker \(arguments.joined(separator: " ")) did not exit within \(timeout)" }
    }

    /// Runs `worker` with `arguments` and waits for it to exit.
    ///
    /// - Parameters:
    ///   - environment: Changes to this process's environment: a value sets a variable, `nil` removes it.
    ///   - directory: The working directory; by default an empty one, so no `./config.yaml` is picked up.
    ///   - timeout: The child is terminated after this long and the call throws ``TimedOut``.
    static func run(
        _ arguments: [String],
        environment: [String: String?] = [:],
        directory: URL? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Output {
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        return try await launch(
            try executableURL(), arguments, environment: variables, directory: directory, timeout: timeout)
    }

    /// Runs `command` with `/bin/sh -c` in `directory` with exactly `environment`, as cron runs a crontab line.
    static func shell(_ command: String, environment: [String: String], directory: URL) async throws -> Output {
        try await launch(
            URL(fileURLWithPath: "/bin/sh"), ["-c", command], environment: environment, directory: directory,
            timeout: .seconds(60))
    }

    /// Runs `executable` with exactly `environment`; nil `directory` is an empty scratch folder.
    static func launch(
        _ executable: URL, _ arguments: [String], environment: [String: String], directory: URL?, timeout: Duration
    ) async throws -> Output {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stdoutURL = scratch.appendingPathComponent("stdout")
        let stderrURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdout = try FileHandle(forWritingTo: stdoutURL)
        let stderr = try FileHandle(forWritingTo: stderrURL)
        defer {
            try? stdout.close()
            try? stderr.close()
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? scratch
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr

        let child = Child(process)
        let status = try await child.run(timeout: timeout, arguments: arguments)
        return Output(
            status: status,
            stdout: String(decoding: try Data(contentsOf: stdoutURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self)
        )
    }

    /// `WORKER_EXECUTABLE`, else `worker` in the folder of the running test binary (`CommandLine.arguments[0]`:
    /// `.build/<triple>/debug/<package>PackageTests.xctest` on Linux), else next to the test bundle on macOS.
    static func executableURL() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [URL] = []
        if let path = environment["WORKER_EXECUTABLE"], !path.isEmpty { candidates.append(URL(fileURLWithPath: path)) }
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent("worker"))
        }
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("worker"))
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("worker"))
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) {
            return found
        }
        throw NotFound(searched: candidates.map(\.path))
    }
}

/// A started child and its exit status.
private final class Child: Sendable {
    private let process: Process

    init(_ process: Process) {
        self.process = process
    }

    func run(timeout: Duration, arguments: [String]) async throws -> Int32 {
        let timedOut = TimeoutFlag()
        let watchdog = Task { [self] in
            try await Task.sleep(for: timeout)
            if process.isRunning {
                timedOut.set()
                process.terminate()
            }
        }
        defer { watchdog.cancel() }
        let status = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { finished in
                let signaled = finished.terminationReason == .uncaughtSignal
                continuation.resume(returning: (signaled ? 128 : 0) + finished.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        if timedOut.isSet { throw WorkerProcess.TimedOut(arguments: arguments, timeout: timeout) }
        return status
    }
}

/// Set once by the watchdog, read after the child exits.
private final class TimeoutFlag: Sendable {
    private let value = Locked(false)

    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
