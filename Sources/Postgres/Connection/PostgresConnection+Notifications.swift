import CLibPQ

/// `LISTEN`/`NOTIFY`: waiting for a notification on a connection that listens.
extension PostgresConnection {
    /// A notification from a channel this connection listens to.
    public struct Notification: Sendable, Equatable {
        public var channel: String
        public var payload: String
        /// The backend that sent it.
        public var senderPID: Int32
    }

    /// Waits for the next notification on the channels this connection `LISTEN`s to.
    ///
    /// Cancelling the task ends the wait at once (no statement runs, so there is nothing to send a cancel request
    /// for), and leaves the connection unusable: a listening connection is a dedicated one, closed after.
    public func nextNotification() async throws -> Notification {
        guard claim.take() else {
            throw PostgresConnectionError(kind: .busy, message: "another task is using this connection", target: target)
        }
        defer { release() }
        guard !claim.isClosed else { throw closedError() }
        while true {
            if PQconsumeInput(handle) == 0 { throw lost() }
            if let notify = PQnotifies(handle) {
                defer { PQfreemem(notify) }
                return Notification(
                    channel: String(cString: notify.pointee.relname),
                    payload: notify.pointee.extra.map { String(cString: $0) } ?? "",
                    senderPID: notify.pointee.be_pid)
            }
            try Task.checkCancellation()
            _ = try await withTaskCancellationHandler {
                try await wait(.readable)
            } onCancel: { [reactor, owner] in
                reactor.interrupt(owner: owner)
            }
        }
    }
}
