import Foundation
import Glibc
import Testing

@testable import Postgres

/// Tests that depend on tasks running at the same time; `make test` runs them again under ThreadSanitizer.
@Suite struct ConcurrencyTests {
    /// The non-blocking proof: 32 tasks each sleep one second in the server, and the server sees all 32 at once.
    /// A connection that blocked a thread of the cooperative pool would show no more at a time than the machine has
    /// cores; on the reactor's thread (``PostgresExecutor``, where a batch's tasks run), no more than one.
    @Test(arguments: [false, true]) func thirtyTwoSleepsRunAtOnce(onTheReactorThread: Bool) async throws {
        let name = TestDatabase.uniqueName("mw_nonblocking")
        let monitor = try await TestDatabase.connect()
        defer { monitor.close() }
        var connections: [PostgresConnection] = []
        for _ in 0..<32 { connections.append(try await TestDatabase.connect(applicationName: name)) }
        defer { for connection in connections { connection.close() } }
        let sleepers = { () async throws -> Int in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for connection in connections {
                    group.addTask {
                        try await connection.query("SELECT pg_sleep(1)")
                        return -1
                    }
                }
                group.addTask {
                    var peak = 0
                    for _ in 0..<200 where peak < 32 {
                        let active = try await monitor.query(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
                            [name]
                        ).rows[0].decode(0, as: Int.self)
                        peak = max(peak, active)
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    return peak
                }
                var peak = 0
                for try await value in group { peak = max(peak, value) }
                return peak
            }
        }
        let peak = onTheReactorThread ? try await PostgresExecutor.run(sleepers) : try await sleepers()
        #expect(peak == 32)
    }

    @Test func cancellingATaskCancelsItsStatement() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let sleeper = Task { try await connection.query("SELECT pg_sleep(60)") }
        try await waitUntilActive(connection)
        sleeper.cancel()
        let result = await sleeper.result
        #expect(throws: PostgresServerError.self) { try result.get() }
        if case .failure(let error as PostgresServerError) = result {
            #expect(error.sqlState == PostgresServerError.Code.queryCanceled)
        }
        #expect(connection.isUsable)
        #expect(connection.transactionStatus == .idle)
        #expect(try await connection.query("SELECT 41 + 1").rows[0].decode(0, as: Int.self) == 42)
    }

    /// The statement runs in a pipeline after the one setting its timeout; a cancel ends it, the server skips
    /// nothing it should not, and the connection leaves pipeline mode, usable.
    @Test func cancellingAStatementWithATimeoutLeavesTheConnectionUsable() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let sleeper = Task { try await connection.query("SELECT pg_sleep(60)", statementTimeout: .seconds(120)) }
        try await waitUntilActive(connection, running: "SELECT pg_sleep(60)")
        sleeper.cancel()
        let result = await sleeper.result
        #expect {
            try result.get()
        } throws: { ($0 as? PostgresServerError)?.sqlState == PostgresServerError.Code.queryCanceled }
        #expect(connection.isUsable)
        #expect(connection.transactionStatus == .idle)
        #expect(try await connection.query("SHOW statement_timeout").rows[0].decode(0, as: String.self) == "0")
    }

    @Test func cancellingInsideATransactionLeavesItFailedButTheConnectionUsable() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        try await connection.execute(script: "BEGIN")
        let sleeper = Task { try await connection.query("SELECT pg_sleep(60)") }
        try await waitUntilActive(connection)
        sleeper.cancel()
        _ = await sleeper.result
        #expect(connection.transactionStatus == .failed)
        try await connection.execute(script: "ROLLBACK")
        #expect(try await connection.query("SELECT 1").rows.count == 1)
    }

    /// A backend that cannot act on the cancel (stopped with SIGSTOP, as a hung server would be): the connection is
    /// declared lost after the cancel timeout instead of leaving the task waiting.
    @Test func anUnansweredCancelEndsInALostConnectionNotAWedge() async throws {
        var configuration = try TestDatabase.configuration()
        configuration.cancelTimeout = .milliseconds(300)
        let connection = try await PostgresConnection.connect(configuration)
        defer { connection.close() }
        let pid = connection.backendPID
        // Long enough that the poll below sees it active even if the machine stalls the test for seconds; the
        // backend is terminated at the end either way.
        let sleeper = Task { try await connection.query("SELECT pg_sleep(60)") }
        try await waitUntilActive(connection)
        // The tests run as the server's OS user or as root (make test), so the signal is allowed.
        #expect(kill(pid, SIGSTOP) == 0, "cannot stop backend \(pid): run the tests as root or as the server's user")
        defer { kill(pid, SIGCONT) }
        sleeper.cancel()
        let result = await sleeper.result
        kill(pid, SIGCONT)
        #expect {
            try result.get()
        } throws: { ($0 as? PostgresConnectionError)?.kind == .connectionLost }
        #expect(!connection.isUsable)
        let admin = try await TestDatabase.connect()
        defer { admin.close() }
        try await admin.query("SELECT pg_terminate_backend($1)", [pid])
    }

    /// close() from another task while a statement runs cancels the statement on the server, and the connection closes
    /// as the statement returns: its backend goes away and the connection refuses further work.
    @Test func closingAConnectionInUseCancelsItsStatementAndClosesIt() async throws {
        let connection = try await TestDatabase.connect()
        let pid = connection.backendPID
        let sleeper = Task { try await connection.query("SELECT pg_sleep(60)") }
        try await waitUntilActive(connection)
        connection.close()
        let result = await sleeper.result
        #expect {
            try result.get()
        } throws: { ($0 as? PostgresServerError)?.sqlState == PostgresServerError.Code.queryCanceled }
        #expect(connection.transactionStatus == .unknown)
        #expect(!connection.isUsable)
        await #expect {
            try await connection.query("SELECT 1")
        } throws: { ($0 as? PostgresConnectionError)?.kind == .closed }
        try await waitUntilGone(pid)
    }

    @Test func aTaskCancelledBeforeItsStatementSendsNothing() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await connection.query("SELECT 1")
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await connection.query("SELECT 2").rows.count == 1)
    }

    @Test func aConnectionServesOneTaskAtATime() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    do {
                        try await connection.query("SELECT pg_sleep(0.5)")
                        return true
                    } catch {
                        return (error as? PostgresConnectionError)?.kind == .busy ? false : true
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1 && outcomes.count == 2)
        #expect(connection.isUsable)
    }

    @Test func manyConnectionsQueryConcurrently() async throws {
        let sums = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    let connection = try await TestDatabase.connect()
                    defer { connection.close() }
                    var sum = 0
                    for round in 0..<200 {
                        sum += try await connection.query("SELECT $1::int8 + $2::int8", [worker, round]).rows[0]
                            .decode(0, as: Int.self)
                    }
                    return sum
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sums == (0..<16).reduce(0) { $0 + 200 * $1 } + 16 * (199 * 200 / 2))
    }

    @Test func cancellingAConnectAbandonsIt() async throws {
        let configuration = try TestDatabase.configuration()
        let attempt = Task { try await PostgresConnection.connect(configuration) }
        attempt.cancel()
        let result = await attempt.result
        if case .success(let connection) = result {
            // The connect won the race; it must still be a working connection.
            #expect(connection.isUsable)
            connection.close()
        } else {
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }

    /// Waits until the server no longer lists backend `pid`, which ends a moment after its client said goodbye.
    private func waitUntilGone(_ pid: Int32) async throws {
        let monitor = try await TestDatabase.connect()
        defer { monitor.close() }
        for _ in 0..<500 {
            let rows = try await monitor.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [Int(pid)]).rows
            if rows.isEmpty { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("backend \(pid) is still there after its connection was closed")
    }

    /// Waits until the connection's backend is running a statement (`running`, when given).
    private func waitUntilActive(_ connection: PostgresConnection, running statement: String? = nil) async throws {
        let monitor = try await TestDatabase.connect()
        defer { monitor.close() }
        let started = ContinuousClock.now
        var seen: [String] = []
        for _ in 0..<500 {
            let row = try await monitor.query(
                "SELECT state, query FROM pg_stat_activity WHERE pid = $1",
                [Int(connection.backendPID)]
            ).rows.first
            let (state, query) = try row?.decode((String?, String?).self) ?? (nil, nil)
            if state == "active", statement == nil || query == statement { return }
            let sample = "\(state ?? "no row"): \(query ?? "")"
            if seen.last != sample { seen.append(sample) }
            try await Task.sleep(for: .milliseconds(10))
        }
        let elapsed = ContinuousClock.now - started
        let samples = seen.joined(separator: " | ")
        Issue.record(
            Comment(
                rawValue: "the statement never became active in \(elapsed) (pid \(connection.backendPID)); "
                    + "seen: \(samples)"))
    }
}
