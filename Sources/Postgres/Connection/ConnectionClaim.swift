import Support

/// Which task may use a connection's libpq handle now, and whether the connection is to be closed or is closed:
/// the claim of rule 1 in ``PostgresConnection``'s threads and locks.
final class ConnectionClaim: Sendable {
    private struct State {
        var claimed = false
        /// Set by ``requestClose()``; whoever holds the claim closes the connection when giving it back.
        var closeRequested = false
        /// Written only by the claim holder, when it closes the connection.
        var closed = false
    }

    private let state = Locked(State())

    /// Takes the claim; false if another task holds it.
    func take() -> Bool {
        state.withLock { state in
            guard !state.claimed else { return false }
            state.claimed = true
            return true
        }
    }

    /// Gives the claim back, calling `close` first, while still holding it, if a close was requested and the
    /// connection is still open.
    func release(closing close: () -> Void) {
        let mustClose = state.withLock { state in
            guard state.closeRequested, !state.closed else {
                state.claimed = false
                return false
            }
            state.closed = true
            return true
        }
        guard mustClose else { return }
        close()
        state.withLock { $0.claimed = false }
    }

    /// Asks the claim holder, present or next, to close the connection.
    func requestClose() {
        state.withLock { $0.closeRequested = true }
    }

    var closeRequested: Bool { state.withLock { $0.closeRequested } }

    var isClosed: Bool { state.withLock { $0.closed } }
}
