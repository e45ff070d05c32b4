import CLibPQ

/// Claiming the connection for one operation, turning the task's cancellation into a cancel request, and closing;
/// the rules are in ``PostgresConnection``'s threads and locks.
extension PostgresConnection {
    /// Closes the connection. If another task is using it, its statement is cancelled on the server (so the backend
    /// stops at once rather than when its statement would have ended) and the connection closes when it returns.
    public func close() {
        claim.requestClose()
        if claim.take() { return release() }
        cancellation.cancelActive()
        // The holder may have released it meanwhile, before it could see the request.
        if claim.take() { release() }
    }

    /// Gives the claim back, closing the connection first if ``close()`` asked for it meanwhile.
    func release() {
        claim.release(closing: finish)
    }

    /// Runs one operation with the connection claimed and task cancellation turned into a cancel request.
    func exclusively<Value>(_ operation: () async throws -> Value) async throws -> Value {
        guard claim.take() else {
            throw PostgresConnectionError(
                kind: .busy,
                message: "another task is using this connection",
                target: target
            )
        }
        defer { release() }
        guard !claim.isClosed else { throw closedError() }
        guard !broken else {
            throw PostgresConnectionError(
                kind: .connectionLost, message: "the connection broke earlier", target: target)
        }
        try Task.checkCancellation()
        let generation = cancellation.begin()
        // close() may have come between the claim and begin(), too early to cancel anything: honour it here.
        if claim.closeRequested {
            _ = await cancellation.end()
            throw closedError()
        }
        let outcome: Result<Value, any Error>
        do {
            outcome = .success(
                try await withTaskCancellationHandler {
                    try await operation()
                } onCancel: { [cancellation] in
                    cancellation.requestCancel(generation: generation)
                }
            )
        } catch {
            outcome = .failure(error)
        }
        if await !cancellation.end() {
            broken = true
            if case .success = outcome {
                throw PostgresConnectionError(
                    kind: .connectionLost,
                    message: "the server did not confirm a cancel request in time",
                    target: target
                )
            }
        }
        if PQstatus(handle) != CONNECTION_OK { broken = true }
        return try outcome.get()
    }
}
