import CLibPQ
import Foundation
import Glibc
import Logging

/// Opening a connection. `PQconnectdbParams` blocks (DNS, TLS, authentication), so it runs on a dedicated thread
/// (rule 2 of ``PostgresConnection``'s threads and locks); connections are opened rarely, so a thread each is cheap.
extension PostgresConnection {
    /// Opens a connection. Cancelling the task abandons the attempt at once.
    public static func connect(
        _ configuration: ConnectionConfiguration,
        logger: Logger = Logger(label: "memory-worker.postgres")
    ) async throws -> PostgresConnection {
        try Task.checkCancellation()
        let reactor: SocketReactor
        do {
            reactor = try SocketReactor.shared()
        } catch {
            throw PostgresConnectionError(kind: .connectFailed, message: "\(error)", target: configuration.maskedURL)
        }
        let parameters = configuration.effectiveParameters
        let opened = try await DedicatedThread.run(name: "memory-worker.connect") {
            withCStringArrays(parameters) { keywords, values in
                UncheckedHandle(pointer: PQconnectdbParams(keywords, values, 0))
            }
        } abandon: { opened in
            PQfinish(opened.pointer)
        }
        guard let handle = opened.pointer else {
            throw PostgresConnectionError(
                kind: .connectFailed, message: "out of memory", target: configuration.maskedURL)
        }
        guard PQstatus(handle) == CONNECTION_OK, PQsetnonblocking(handle, 1) == 0, let cancel = PQgetCancel(handle)
        else {
            var message = configuration.redact(errorMessage(handle))
            if let advice = advice(forConnectFailure: message) { message += " (\(advice))" }
            PQfinish(handle)
            throw PostgresConnectionError(kind: .connectFailed, message: message, target: configuration.maskedURL)
        }
        let sink = NoticeSink(logger: logger)
        PQsetNoticeProcessor(
            handle,
            { context, message in
                guard let context, let message else { return }
                let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
                sink.logger.debug("server notice: \(String(cString: message).trimmingCharacters(in: .newlines))")
            },
            Unmanaged.passUnretained(sink).toOpaque()
        )
        let connection = PostgresConnection(
            handle: handle,
            reactor: reactor,
            cancel: CancelHandle(cancel),
            configuration: configuration,
            noticeSink: sink
        )
        // Timestamps are read in ISO form; a server or role configured otherwise is switched for this session.
        let dateStyle = PQparameterStatus(handle, "DateStyle").map { String(cString: $0) } ?? ""
        if !dateStyle.hasPrefix("ISO") {
            try await connection.execute(script: "SET DateStyle TO ISO")
        }
        return connection
    }

    /// The masked URL of the database `handle` reached.
    static func describe(_ handle: OpaquePointer) -> String {
        func text(_ value: UnsafeMutablePointer<CChar>?) -> String? { value.map { String(cString: $0) } }
        return ConnectionConfiguration.maskedURL(
            user: text(PQuser(handle)),
            host: text(PQhost(handle)),
            port: text(PQport(handle)),
            database: text(PQdb(handle)),
            hasPassword: PQconnectionUsedPassword(handle) == 1
        )
    }

    private static func withCStringArrays<Result>(
        _ pairs: [(keyword: String, value: String)],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> Result
    ) -> Result {
        let keywords = pairs.map { strdup($0.keyword) } + [nil]
        let values = pairs.map { strdup($0.value) } + [nil]
        defer {
            for pointer in keywords + values { free(pointer) }
        }
        let constKeywords = keywords.map { UnsafePointer($0) }
        let constValues = values.map { UnsafePointer($0) }
        return body(constKeywords, constValues)
    }
}

/// Receives the server's notices (e.g. "table already exists, skipping") so libpq does not print them to stderr.
final class NoticeSink: Sendable {
    let logger: Logger

    init(logger: Logger) { self.logger = logger }
}

/// A `PGconn` pointer crossing from the thread that opened it to the task that uses it.
///
/// `@unchecked Sendable` without a lock: it is handed over exactly once, through a continuation, and the opening
/// thread does not touch it afterwards.
private struct UncheckedHandle: @unchecked Sendable {
    let pointer: OpaquePointer?
}
