import Support
import Testing

@testable import Postgres

/// Tasks that prefer ``PostgresExecutor`` run on the socket reactor's thread, and the loop keeps serving them.
@Suite struct PostgresExecutorTests {
    @Test func aTaskAndItsChildrenRunOnTheReactorThreadAcrossStatements() async throws {
        let reactor = try SocketReactor.shared()
        #expect(!reactor.isCurrentThread)
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let placesSeen = try await PostgresExecutor.run {
            var places = [reactor.isCurrentThread]
            // Resumed by the reactor after a wait for the server, on its own thread.
            _ = try await connection.query("SELECT pg_sleep(0.05)")
            places.append(reactor.isCurrentThread)
            let children = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 { group.addTask { reactor.isCurrentThread } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            return places + children
        }
        #expect(placesSeen == Array(repeating: true, count: 6))
        #expect(!reactor.isCurrentThread)
    }

    /// A timer resumes the task from another thread while the loop sleeps in `epoll_wait` with no socket to watch:
    /// only the eventfd wakes it. The task is watched from off the loop, so a loop that never wakes fails the test
    /// with a message rather than hanging it.
    @Test func aJobQueuedFromAnotherThreadWakesTheSleepingLoop() async throws {
        let reactor = try SocketReactor.shared()
        let resumedOnTheLoop = Locked<[Bool]?>(nil)
        Task {
            let resumed = try await PostgresExecutor.run {
                var resumed: [Bool] = []
                for _ in 0..<20 {
                    try await Task.sleep(for: .milliseconds(5))
                    resumed.append(reactor.isCurrentThread)
                }
                return resumed
            }
            resumedOnTheLoop.withLock { $0 = resumed }
        }
        // Twenty 5 ms sleeps; the deadline only turns a loop that never wakes into a failure.
        let deadline = ContinuousClock.now + .seconds(30)
        while resumedOnTheLoop.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(resumedOnTheLoop.withLock { $0 } == Array(repeating: true, count: 20))
    }
}
