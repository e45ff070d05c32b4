import ConnectionPool
import Foundation
import Logging
import Postgres
import Support
import Testing

/// The private test cluster (`DATABASE_URL`, set by `make test`) under an application name of the test's own, so
/// the server's count of "our" connections sees this test and no other.
struct TestTarget {
    let applicationName: String
    let configuration: ConnectionConfiguration

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String { "DATABASE_URL is not set: run the tests with 'make test', which starts the cluster" }
    }

    init(_ prefix: String) throws {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else { throw NotConfigured() }
        applicationName = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        var configuration = try ConnectionConfiguration(url)
        configuration["application_name"] = applicationName
        self.configuration = configuration
    }

    /// Backends on the server carrying this test's application name.
    func serverConnections() async throws -> Int {
        try await ServerConnectionCount.count(applicationName: applicationName, configuration: configuration)
    }

    /// Runs `work` while sampling the server's count of this test's connections; returns the highest count seen.
    func peakServerConnections(during work: @escaping @Sendable () async throws -> Void) async throws -> Int {
        let finished = Locked(false)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                defer { finished.withLock { $0 = true } }
                try await work()
                return 0
            }
            group.addTask {
                var peak = 0
                while !finished.withLock({ $0 }) {
                    peak = max(peak, try await serverConnections())
                    try await Task.sleep(for: .milliseconds(10))
                }
                return peak
            }
            return try await group.reduce(0, max)
        }
    }

    /// Waits until the server's count reaches `expected` (closing is asynchronous on the server's side).
    func waitForServerConnections(_ expected: Int) async throws -> Int {
        var count = try await serverConnections()
        for _ in 0..<200 where count != expected {
            try await Task.sleep(for: .milliseconds(20))
            count = try await serverConnections()
        }
        return count
    }
}

/// Waits until `condition` holds, polling; records an issue (rather than hanging the run) if it does not within
/// `timeout`. Returns whether it held.
@discardableResult
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(20),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("gave up waiting until \(what)", sourceLocation: sourceLocation)
            return false
        }
        try await Task.sleep(for: .milliseconds(5))
    }
    return true
}

/// Collects log messages, to check what the pool warns about.
final class LogCollector: Sendable {
    let messages = Locked<[String]>([])

    var logger: Logger {
        Logger(label: "test") { _ in CollectingHandler(collector: self) }
    }

    struct CollectingHandler: LogHandler {
        let collector: LogCollector
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            collector.messages.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }
}
