import CLibPQ

/// Sending to and waiting for the server without blocking: each libpq call returns at once, and the task suspends on
/// the reactor while the socket is not ready (rule 2 of ``PostgresConnection``'s threads and locks).
extension PostgresConnection {
    /// Checks the result of a `PQsend…` call and tells the cancellation that a statement is on its way.
    func check(_ sent: Int32) throws {
        guard sent == 1 else { throw lost() }
        cancellation.markSent()
    }

    /// Waits until the output queue is sent, reading input meanwhile so the server cannot deadlock against us.
    func flush() async throws {
        while true {
            let pending = PQflush(handle)
            if pending == 0 { return }
            guard pending == 1 else { throw lost() }
            let readiness = try await wait(.readableOrWritable)
            if readiness.readable, PQconsumeInput(handle) == 0 { throw lost() }
        }
    }

    /// Reads input until a whole result is available.
    ///
    /// Before it waits on the reactor the task yields, up to twice, and reads what has come: the reply to a short
    /// statement often arrives while the other ready tasks run, and then it is read here, with one `recv`, instead of
    /// through the reactor (an `epoll_ctl` to arm the socket, a readiness event, and for a task not on the reactor's
    /// thread a hop back to the pool). A second yield catches about half of the replies the first one missed, for one `recv` that finds
    /// nothing when it does not (measured by `make bench`: a reactor wait for 7 % of round trips instead of 13 %).
    func waitForResult() async throws {
        for _ in 0..<2 where PQisBusy(handle) == 1 {
            await Task.yield()
            if PQconsumeInput(handle) == 0 { throw lost() }
        }
        while PQisBusy(handle) == 1 {
            _ = try await wait(.readable)
            if PQconsumeInput(handle) == 0 { throw lost() }
        }
    }

    /// Suspends until the socket is ready for `interest`; an interrupted wait (a cancel the server did not answer in
    /// time) breaks the connection.
    func wait(_ interest: SocketReactor.Interest) async throws -> SocketReactor.Readiness {
        do {
            let socket = PQsocket(handle)
            guard socket >= 0 else { throw lost() }
            return try await reactor.wait(for: socket, interest, owner: owner)
        } catch {
            broken = true
            throw PostgresConnectionError(kind: .connectionLost, message: "\(error)", target: target)
        }
    }
}
