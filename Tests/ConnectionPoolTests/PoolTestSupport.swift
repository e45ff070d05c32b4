import ConnectionPool
import Foundation
import Logging
import PoolConfiguration
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

    /// A target named after `prefix` and a pool for it whose timers run on a test clock.
    static func poolOnTestClock(
        _ prefix: String,
        _ settings: PoolSettings,
        logger: Logger = Logger(label: "test")
    ) throws -> (target: TestTarget, clock: TestClock, pool: ConnectionPool) {
        let target = try TestTarget(prefix)
        let clock = TestClock()
        let pool = ConnectionPool(configuration: target.configuration, settings: settings, logger: logger, clock: clock)
        return (target, clock, pool)
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

/// Thrown when a wait gives up: the test ends there, since what follows would wait on what never happened (a
/// lease that was never held, a timer that was never set) and hang the whole run instead of failing one test.
struct GaveUpWaiting: Error, CustomStringConvertible {
    let what: String
    var description: String { "gave up waiting until \(what)" }
}

/// Waits until `condition` holds, polling; records an issue at the caller and throws ``GaveUpWaiting`` if it does
/// not within `timeout`.
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(20),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("gave up waiting until \(what)", sourceLocation: sourceLocation)
            throw GaveUpWaiting(what: what)
        }
        try await Task.sleep(for: .milliseconds(5))
    }
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

/// A clock for the pool's timers that moves only when the test moves it: a test waits until the pool has set the
/// timer it expects (``waitForTimer(at:)``), then moves the clock to it (``advance(to:)``), and nothing sleeps.
final class TestClock: PoolClock {
    private struct Sleeper {
        var id: Int
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: ContinuousClock.Instant
        var sleepers: [Sleeper] = []
        var nextID = 0
    }

    let start: ContinuousClock.Instant
    private let state: Locked<State>

    init() {
        start = ContinuousClock.now
        state = Locked(State(now: start))
    }

    var now: ContinuousClock.Instant { state.withLock { $0.now } }

    /// The instants timers are set for now, earliest first.
    var timers: [ContinuousClock.Instant] { state.withLock { $0.sleepers.map(\.deadline).sorted() } }

    func wait(until deadline: ContinuousClock.Instant) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns once a timer is set for `deadline`.
    func waitForTimer(
        at deadline: ContinuousClock.Instant, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await waitUntil("a timer is set for +\(deadline - start)", sourceLocation: sourceLocation) {
            timers.contains(deadline)
        }
    }

    /// Moves the clock to `instant` and fires the timers due by then.
    func advance(to instant: ContinuousClock.Instant) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = max(state.now, instant)
            let now = state.now
            defer { state.sleepers.removeAll { $0.deadline <= now } }
            return state.sleepers.filter { $0.deadline <= now }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}

/// Holds a lease open until the test lets it go.
final class Gate: Sendable {
    private let state = Locked<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Leases a connection from `pool` for `holder` and holds it until the returned gate opens; returns once it is held
/// (`leased` leases in all). The lease's call site is the caller's.
func holdLease(
    on pool: ConnectionPool,
    holder: String = "unnamed",
    leased: Int = 1,
    fileID: String = #fileID,
    line: Int = #line
) async throws -> (gate: Gate, holder: Task<Void, any Error>) {
    let gate = Gate()
    let task = Task {
        try await pool.withConnection(holder: holder, fileID: fileID, line: line) { _ in await gate.wait() }
    }
    try await waitUntil("\(leased) connection(s) leased") { pool.statistics.leased == leased }
    return (gate, task)
}

/// Starts closing `pool` and returns once closing has set its timer for `deadline` (the drain time, or the grace
/// after a cut); the task ends when `close` returns.
func startClosing(
    _ pool: ConnectionPool,
    drain: Duration,
    grace: Duration = .seconds(1),
    timerAt deadline: ContinuousClock.Instant,
    on clock: TestClock,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> Task<Void, Never> {
    let closed = Task { await pool.close(drain: drain, grace: grace) }
    try await clock.waitForTimer(at: deadline, sourceLocation: sourceLocation)
    return closed
}
