import CLibPQ
import Foundation
import Glibc
import Logging
import Synchronization

/// One libpq connection with an async API that never blocks a thread of Swift's cooperative pool.
///
/// Opening runs `PQconnectdbParams` on a dedicated thread, because libpq's connection start may block on DNS and
/// TLS, and connections are opened rarely. Statements use libpq's non-blocking calls on the caller's task and suspend on
/// the shared ``SocketReactor`` while the server works, so thousands of statements can wait at once on a few threads.
///
/// A connection serves one task at a time. Each operation claims it first and throws
/// ``PostgresConnectionError/Kind/busy`` if another task holds it; a pool hands a connection to one task at a time,
/// so that never happens there.
///
/// `@unchecked Sendable`: the libpq handle and the statement cache are touched only by the task that holds the `claimed`
/// atomic flag (taken with acquiring and given back with releasing ordering), so one task at a time, each seeing what
/// the previous holder wrote.
public final class PostgresConnection: @unchecked Sendable {
    /// How the server sees the current transaction.
    public enum TransactionStatus: Sendable, Equatable {
        /// No transaction is open.
        case idle
        /// A statement is running (or another task holds the connection).
        case active
        /// Inside a transaction block.
        case inTransaction
        /// Inside a failed transaction block: only `ROLLBACK` will be accepted.
        case failed
        /// The connection is broken.
        case unknown
    }

    /// The masked URL of the database this connection reached.
    public let target: String
    /// The server's process id for this connection (`pg_backend_pid()`), as `pg_stat_activity.pid` shows it.
    public let backendPID: Int32
    /// When the connection was opened.
    public let openedAt: Date
    /// The server's version as an integer, e.g. `150018` for 15.18.
    public let serverVersion: Int
    /// The server's version as it reports it, e.g. `15.18 (Debian 15.18-0+deb12u1)`.
    public let serverVersionText: String

    private let handle: OpaquePointer
    private let reactor: SocketReactor
    /// This connection's identity at the reactor, which can interrupt its wait from another thread.
    private let owner: Int
    private static let nextOwnerID = Atomic<Int>(0)
    private let cancellation: QueryCancellation
    private let configuration: ConnectionConfiguration
    private let noticeSink: NoticeSink
    private let claimed = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    /// Set by ``close()``; whoever holds the claim closes the connection when giving it back.
    private let closeRequested = Atomic<Bool>(false)
    /// Set when the connection failed in use; read and written only by the claim holder.
    private var broken = false
    /// Statement names by signature (parameter types and SQL), for the statements prepared on this connection.
    private var preparedStatements: [StatementSignature: String] = [:]
    /// How many statement names were given out (see ``newStatementName()``).
    private var statementsNamed = 0

    /// Prepared statements kept per connection; past this, statements run unnamed rather than grow without bound.
    static let preparedStatementLimit = 256

    private init(
        handle: OpaquePointer,
        reactor: SocketReactor,
        cancel: CancelHandle,
        configuration: ConnectionConfiguration,
        noticeSink: NoticeSink
    ) {
        self.handle = handle
        self.reactor = reactor
        self.configuration = configuration
        self.noticeSink = noticeSink
        backendPID = PQbackendPID(handle)
        openedAt = Date()
        serverVersion = Int(PQserverVersion(handle))
        serverVersionText = PQparameterStatus(handle, "server_version").map { String(cString: $0) } ?? ""
        let owner = Self.nextOwnerID.wrappingAdd(1, ordering: .relaxed).newValue
        self.owner = owner
        cancellation = QueryCancellation(handle: cancel, timeout: configuration.cancelTimeout) {
            reactor.interrupt(owner: owner)
        }
        target = Self.describe(handle)
    }

    deinit {
        if !closed.load(ordering: .acquiring) {
            forgetSocket()
            PQfinish(handle)
        }
    }

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
            Self.withCStringArrays(parameters) { keywords, values in
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
            var message = configuration.redact(Self.errorMessage(handle))
            if let advice = Self.advice(forConnectFailure: message) { message += " (\(advice))" }
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

    // MARK: Statements

    /// Runs one statement with `$1…$n` bound to `parameters` and returns its result.
    ///
    /// Cancelling the task sends the server a cancel request; the statement then fails with SQLSTATE 57014 and the
    /// connection stays usable (or, if the server does not answer in time, is reported broken).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresResult {
        try await exclusively {
            let encoded = try EncodedParameters(parameters)
            if configuration.usePreparedStatements {
                let name = try await preparedStatement(for: sql, types: encoded.types)
                // A cancel or close that came during the prepare round trip found an idle backend: honour it here.
                try Task.checkCancellation()
                guard !closeRequested.load(ordering: .acquiring) else {
                    throw PostgresConnectionError(kind: .closed, message: "the connection was closed", target: target)
                }
                try encoded.withPointers { count, types, values, lengths, formats in
                    try check(PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0))
                }
            } else {
                try encoded.withPointers { count, types, values, lengths, formats in
                    try check(PQsendQueryParams(handle, sql, count, types, values, lengths, formats, 0))
                }
            }
            return try await finishStatement()
        }
    }

    /// Runs one statement like ``query(_:_:)``; the server cancels it (SQLSTATE 57014, "canceling statement due to
    /// statement timeout") when it runs, its preparation included, for longer than `statementTimeout`. A zero timeout
    /// sets none, and the session's own `statement_timeout` applies.
    ///
    /// The timeout is set with `set_config('statement_timeout', …, true)` sent in one pipeline with the statement, so
    /// it costs no round trip of its own. Outside a transaction block the two share an implicit transaction that ends
    /// with the statement, so the timeout never outlives it: whoever uses the connection next (a pool's next lease)
    /// has the session's setting. Inside a transaction block it lasts until the block ends. Being the server's, the
    /// timeout also ends a statement whose client died and can no longer cancel it.
    @discardableResult
    public func query(
        _ sql: String, _ parameters: [(any PostgresEncodable)?] = [], statementTimeout: Duration
    ) async throws -> PostgresResult {
        let milliseconds = statementTimeout.settingMilliseconds
        guard milliseconds > 0 else { return try await query(sql, parameters) }
        return try await exclusively {
            try await pipelined([
                (Self.setLocalSQL, try EncodedParameters(["statement_timeout", "\(milliseconds)ms"])),
                (sql, try EncodedParameters(parameters)),
            ])
        }
    }

    /// Sets a setting until the end of the current transaction. Parameters: name, value.
    private static let setLocalSQL = "SELECT pg_catalog.set_config($1::text, $2::text, true)"

    /// Runs SQL text without parameters, possibly several statements (for schema scripts); stops at the first error.
    public func execute(script: String) async throws {
        _ = try await exclusively {
            try check(PQsendQuery(handle, script))
            return try await finishStatement(allowEmpty: true)
        }
    }

    /// Runs `body` inside `BEGIN` … `COMMIT`, rolling back when it throws.
    @discardableResult
    public func transaction<Value>(_ body: (PostgresConnection) async throws -> Value) async throws -> Value {
        try await execute(script: "BEGIN")
        let value: Value
        do {
            value = try await body(self)
        } catch {
            if transactionStatus != .unknown { try? await execute(script: "ROLLBACK") }
            throw error
        }
        try await execute(script: "COMMIT")
        return value
    }

    /// Streams rows into `COPY … FROM STDIN` (text format): rows go to the server as `body` writes them, in chunks of
    /// ``CopyWriter/chunkSize`` bytes, never all in memory. Returns the number of rows copied.
    ///
    /// If `body` throws, the COPY is aborted, nothing it wrote is kept, and the error is rethrown.
    @discardableResult
    public func copyFrom(_ sql: String, _ body: (CopyWriter) async throws -> Void) async throws -> Int {
        try await exclusively {
            try check(PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0))
            try await flush()
            try await waitForResult()
            guard let start = PQgetResult(handle) else { throw unexpected("COPY returned no result") }
            guard PQresultStatus(start) == PGRES_COPY_IN else {
                // Not a COPY FROM STDIN: report the server's error, or what the statement turned out to be.
                let result = try await finishStatement(pending: start)
                throw unexpected("expected COPY FROM STDIN, got '\(result.commandTag)'")
            }
            PQclear(start)
            let writer = CopyWriter(connection: self)
            do {
                try await body(writer)
                try await writer.sendBuffered()
                try await endCopy(failure: nil)
            } catch {
                // Aborting makes the server reject the COPY; its error is expected and the caller's error wins.
                if !broken, (try? await endCopy(failure: "aborted by client")) != nil {
                    _ = try? await finishStatement()
                }
                throw error
            }
            return try await finishStatement().rowsAffected
        }
    }

    // MARK: State a pool needs

    /// The transaction state; `.active` while another task holds the connection.
    public var transactionStatus: TransactionStatus {
        guard claim() else { return .active }
        defer { release() }
        if broken || closed.load(ordering: .relaxed) { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failed
        default: return .unknown
        }
    }

    /// Whether the connection can run statements, checked without blocking: input the server sent while the
    /// connection sat idle is read first, so a backend that was terminated or a server that went away shows here.
    /// False while another task holds the connection.
    public var isUsable: Bool {
        guard claim() else { return false }
        defer { release() }
        if broken || closed.load(ordering: .relaxed) { return false }
        // A terminated backend sends its FATAL message and then closes: reading until the socket has nothing more
        // (at most a few rounds; input on an idle connection is rare) reaches the end of stream, which breaks it.
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        var rounds = 0
        while rounds < 4, !broken, poll(&descriptor, 1, 0) > 0 {
            if PQconsumeInput(handle) == 0 { broken = true }
            rounds += 1
        }
        if PQstatus(handle) != CONNECTION_OK { broken = true }
        return !broken
    }

    /// Closes the connection. If another task is using it, its statement is cancelled on the server (so the backend
    /// stops at once rather than when its statement would have ended) and the connection closes when it returns.
    public func close() {
        closeRequested.store(true, ordering: .releasing)
        if claim() { return release() }
        cancellation.cancelActive()
        // The holder may have released it meanwhile, before it could see the request.
        if claim() { release() }
    }

    // MARK: Internals shared with CopyWriter

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

    /// Queues COPY data, waiting for room when libpq's buffer is full.
    func putCopyData(_ bytes: [UInt8]) async throws {
        while true {
            let queued = bytes.withUnsafeBytes { raw in
                PQputCopyData(handle, raw.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(raw.count))
            }
            switch queued {
            case 1: return
            case 0: _ = try await wait(.writable)
            default: throw lost()
            }
        }
    }

    // MARK: Private

    /// Ends COPY data (or aborts it with `failure`), waiting for room when libpq's buffer is full.
    private func endCopy(failure: String?) async throws {
        while true {
            switch PQputCopyEnd(handle, failure) {
            case 1: return
            case 0: _ = try await wait(.writable)
            default: throw lost()
            }
        }
    }

    private func claim() -> Bool {
        claimed.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    /// Takes the socket out of the reactor before libpq closes it. The descriptor is asked of libpq each time, never
    /// cached: libpq closes the socket itself when the connection fails, and the number may then belong to another
    /// connection, whose registration a stale number would remove.
    private func forgetSocket() {
        let socket = PQsocket(handle)
        reactor.forget(socket >= 0 ? socket : nil, owner: owner)
    }

    /// Gives the claim back, closing the connection first if ``close()`` asked for it meanwhile.
    private func release() {
        if closeRequested.load(ordering: .acquiring), !closed.exchange(true, ordering: .acquiringAndReleasing) {
            forgetSocket()
            PQfinish(handle)
        }
        claimed.store(false, ordering: .releasing)
    }

    /// Runs one operation with the connection claimed and task cancellation turned into a cancel request.
    private func exclusively<Value>(_ operation: () async throws -> Value) async throws -> Value {
        guard claim() else {
            throw PostgresConnectionError(
                kind: .busy,
                message: "another task is using this connection",
                target: target
            )
        }
        defer { release() }
        guard !closed.load(ordering: .relaxed) else {
            throw PostgresConnectionError(kind: .closed, message: "the connection was closed", target: target)
        }
        guard !broken else {
            throw PostgresConnectionError(
                kind: .connectionLost, message: "the connection broke earlier", target: target)
        }
        try Task.checkCancellation()
        let generation = cancellation.begin()
        // close() may have come between the claim and begin(), too early to cancel anything: honour it here.
        if closeRequested.load(ordering: .acquiring) {
            _ = await cancellation.end()
            throw PostgresConnectionError(kind: .closed, message: "the connection was closed", target: target)
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

    /// Returns the name of a statement prepared for `sql` with these parameter types, preparing it on first use.
    private func preparedStatement(for sql: String, types: [Oid]) async throws -> String? {
        let signature = StatementSignature(sql: sql, types: types)
        if let name = preparedStatements[signature] { return name }
        guard preparedStatements.count < Self.preparedStatementLimit else { return nil }
        let name = newStatementName()
        try check(PQsendPrepare(handle, name, sql, Int32(types.count), types))
        _ = try await finishStatement()
        preparedStatements[signature] = name
        return name
    }

    /// A statement name never given before on this connection: names come from a counter rather than the number of
    /// statements prepared, because a prepare that failed in a pipeline is not recorded, while later ones may be.
    private func newStatementName() -> String {
        statementsNamed += 1
        return "mw\(statementsNamed)"
    }

    /// Sends `statements` as one pipeline, each prepared first when new (like ``query(_:_:)``), and one Sync after
    /// the last, so they run in one implicit transaction (or in the open transaction block); returns the last one's
    /// result, or throws the first error, after which the server skips the rest and rolls the implicit transaction
    /// back. Every result is read, so the connection stays in step and leaves pipeline mode unless it broke.
    private func pipelined(_ statements: [(sql: String, parameters: EncodedParameters)]) async throws
        -> PostgresResult
    {
        guard PQenterPipelineMode(handle) == 1 else { throw unexpected("cannot enter pipeline mode") }
        do {
            var prepares: [StatementSignature: String] = [:]
            var steps: [PipelineStep] = []
            for (sql, parameters) in statements {
                var name: String?
                if configuration.usePreparedStatements {
                    let signature = StatementSignature(sql: sql, types: parameters.types)
                    name = preparedStatements[signature] ?? prepares[signature]
                    if name == nil, preparedStatements.count + prepares.count < Self.preparedStatementLimit {
                        let newName = newStatementName()
                        let types = parameters.types
                        try check(PQsendPrepare(handle, newName, sql, Int32(types.count), types))
                        prepares[signature] = newName
                        steps.append(.prepare(signature, newName))
                        name = newName
                    }
                }
                try parameters.withPointers { count, types, values, lengths, formats in
                    if let name {
                        try check(PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0))
                    } else {
                        try check(PQsendQueryParams(handle, sql, count, types, values, lengths, formats, 0))
                    }
                }
                steps.append(.execute)
            }
            try check(PQpipelineSync(handle))
            var failure: (any Error)?
            var last: PostgresResult?
            for step in steps {
                do {
                    let result = try await finishStatement()
                    switch step {
                    case .prepare(let signature, let name): preparedStatements[signature] = name
                    case .execute: last = result
                    }
                } catch is PipelineAborted {
                    // Skipped because an earlier statement failed; that failure is the one to report.
                } catch let error as PostgresServerError {
                    if failure == nil { failure = error }
                }
            }
            try await waitForResult()
            let sync = PQgetResult(handle)
            let synced = sync.map { PQresultStatus($0) == PGRES_PIPELINE_SYNC } ?? false
            PQclear(sync)
            guard synced, PQexitPipelineMode(handle) == 1 else { throw unexpected("the pipeline did not end in step") }
            if let failure { throw failure }
            guard let last else { throw unexpected("the server sent no result") }
            return last
        } catch {
            // Still in pipeline mode: results are unread or the connection failed; either way it is out of step.
            if PQpipelineStatus(handle) != PQ_PIPELINE_OFF { broken = true }
            throw error
        }
    }

    /// Flushes the statement, reads every result, and returns the last one or throws the first error. In a pipeline,
    /// reads one statement's results; throws ``PipelineAborted`` for a statement the server skipped.
    private func finishStatement(allowEmpty: Bool = false, pending: OpaquePointer? = nil) async throws -> PostgresResult
    {
        try await flush()
        var last: ResultStorage?
        var failure: (any Error)?
        var aborted = false
        var next = pending
        while true {
            if next == nil {
                try await waitForResult()
                next = PQgetResult(handle)
            }
            guard let result = next else { break }
            next = nil
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                last = ResultStorage(result)
            case PGRES_FATAL_ERROR:
                if failure == nil { failure = serverError(result) }
                PQclear(result)
            case PGRES_COPY_IN:
                // A COPY FROM STDIN outside copyFrom: end it so the connection stays in step.
                PQclear(result)
                _ = PQputCopyEnd(handle, "COPY FROM STDIN is only supported through copyFrom")
                try await flush()
            case PGRES_COPY_OUT, PGRES_COPY_BOTH:
                PQclear(result)
                broken = true
                throw unexpected("COPY TO STDOUT is not supported")
            case PGRES_PIPELINE_ABORTED:
                PQclear(result)
                aborted = true
            default:
                PQclear(result)
            }
        }
        if let failure { throw failure }
        if aborted { throw PipelineAborted() }
        if let last { return PostgresResult(last) }
        if allowEmpty, let empty = PQmakeEmptyPGresult(handle, PGRES_EMPTY_QUERY) {
            return PostgresResult(ResultStorage(empty))
        }
        throw unexpected("the server sent no result")
    }

    /// Reads input until a whole result is available.
    ///
    /// Before the first wait the task yields once and reads what has come: the reply to a short statement often
    /// arrives while the other ready tasks run, and then it is read here, with one `recv`, instead of through the
    /// reactor (an `epoll_ctl` to arm the socket, and a wake-up on the reactor's thread that hops back to the pool).
    private func waitForResult() async throws {
        guard PQisBusy(handle) == 1 else { return }
        await Task.yield()
        if PQconsumeInput(handle) == 0 { throw lost() }
        while PQisBusy(handle) == 1 {
            _ = try await wait(.readable)
            if PQconsumeInput(handle) == 0 { throw lost() }
        }
    }

    private func wait(_ interest: SocketReactor.Interest) async throws -> SocketReactor.Readiness {
        do {
            let socket = PQsocket(handle)
            guard socket >= 0 else { throw lost() }
            return try await reactor.wait(for: socket, interest, owner: owner)
        } catch {
            broken = true
            throw PostgresConnectionError(kind: .connectionLost, message: "\(error)", target: target)
        }
    }

    /// Checks the result of a `PQsend…` call and tells the cancellation that a statement is on its way.
    private func check(_ sent: Int32) throws {
        guard sent == 1 else { throw lost() }
        cancellation.markSent()
    }

    private func lost() -> PostgresConnectionError {
        broken = PQstatus(handle) != CONNECTION_OK || broken
        return PostgresConnectionError(
            kind: broken ? .connectionLost : .unexpectedResponse,
            message: configuration.redact(Self.errorMessage(handle)),
            target: target
        )
    }

    private func unexpected(_ message: String) -> PostgresConnectionError {
        PostgresConnectionError(kind: .unexpectedResponse, message: message, target: target)
    }

    private func serverError(_ result: OpaquePointer) -> any Error {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue ?? 0)).map { configuration.redact(String(cString: $0)) }
        }
        guard let sqlState = field("C") else {
            // No SQLSTATE: libpq made this error itself, because the connection failed.
            let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
            broken = PQstatus(handle) != CONNECTION_OK || broken
            return PostgresConnectionError(
                kind: .connectionLost,
                message: configuration.redact(Self.tidy(message.isEmpty ? Self.errorMessage(handle) : message)),
                target: target
            )
        }
        return PostgresServerError(
            sqlState: sqlState,
            severity: field("V") ?? field("S") ?? "ERROR",
            message: field("M") ?? "",
            detail: field("D"),
            hint: field("H"),
            position: field("P").flatMap { Int($0) },
            schema: field("s"),
            table: field("t"),
            column: field("c"),
            constraint: field("n")
        )
    }

    private static func errorMessage(_ handle: OpaquePointer) -> String {
        tidy(PQerrorMessage(handle).map { String(cString: $0) } ?? "unknown error")
    }

    /// What to do about a refused connection that libpq reports without advice; nil for the rest. It matches the
    /// server's English wording: a server with translated messages only loses the advice.
    static func advice(forConnectFailure message: String) -> String? {
        let limits = [
            "too many clients already", "too many connections for", "remaining connection slots are reserved",
        ]
        guard limits.contains(where: message.contains) else { return nil }
        return "the server is at its connection limit: max_connections, or a CONNECTION LIMIT on the role or "
            + "database; lower pool_size + max_overflow, run fewer workers at once, or raise the limit"
    }

    /// libpq's messages are multi-line with tab indents; one line reads better in logs and reports.
    private static func tidy(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }

    private static func describe(_ handle: OpaquePointer) -> String {
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

/// What a prepared statement is looked up by, on every statement: the fields themselves, not a string built from
/// them, so a lookup allocates nothing.
private struct StatementSignature: Hashable {
    var sql: String
    var types: [Oid]
}

/// One thing a pipeline sent whose results come back in order: a statement's preparation, or its execution.
private enum PipelineStep {
    case prepare(StatementSignature, String)
    case execute
}

/// A statement in a pipeline that the server skipped because one before it failed.
private struct PipelineAborted: Error {}

/// Receives the server's notices (e.g. "table already exists, skipping") so libpq does not print them to stderr.
private final class NoticeSink: Sendable {
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
