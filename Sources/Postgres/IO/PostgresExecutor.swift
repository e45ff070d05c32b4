/// Where the tasks that use connections run: on the socket reactor's thread, as an event loop.
public enum PostgresExecutor {
    /// Runs `operation` with it and its child tasks preferring the reactor's thread.
    ///
    /// Why: a task on Swift's global executor pays a hop between threads at every wait for the server (the reactor
    /// resumes it on a pool thread, which a futex may have to wake). Run on the reactor's thread, the task's libpq
    /// calls, its waits and the other tasks it hands connections to stay on one thread, which sleeps in `epoll_wait`
    /// only when none of them can run: pgbench's model, one thread looping over its connections. The cost is one core
    /// for the client side of every such task, so it suits round trips, where the server's share of a statement is the
    /// larger one, not CPU work on the client such as encoding a large COPY.
    /// If the reactor could not start, `operation` runs where it would have anyway, and connecting reports the error.
    public static func run<Value, Failure: Error>(
        isolation: isolated (any Actor)? = #isolation,
        _ operation: () async throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        try await withTaskExecutorPreference(try? SocketReactor.shared(), isolation: isolation, operation: operation)
    }
}
