import CLibPQ

/// Running statements one at a time, and reading their results.
extension PostgresConnection {
    /// Runs one statement with `$1…$n` bound to `parameters` and returns its result.
    ///
    /// Cancelling the task sends the server a cancel request; the statement then fails with SQLSTATE 57014 and the
    /// connection stays usable (or, if the server does not answer in time, is reported broken).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresResult {
        try await exclusively {
            let encoded = try EncodedParameters(parameters)
            var name: String?
            if usesNamedStatements {
                name = try await preparedStatement(for: sql, types: encoded.types)
                // A cancel or close that came during the prepare round trip found an idle backend: honour it here.
                try Task.checkCancellation()
                guard !claim.closeRequested else { throw closedError() }
            }
            try send(sql, encoded, prepared: name)
            return try await finishStatement()
        }
    }

    /// Sends one statement: as the prepared statement `name`, or unnamed when there is none (preparation is off, or
    /// the cache is full).
    func send(_ sql: String, _ parameters: EncodedParameters, prepared name: String?) throws {
        try parameters.withPointers { count, types, values, lengths, formats in
            if let name {
                // withCString, not the implicit conversion, which copies a short string like this to the heap.
                try check(name.withCString { PQsendQueryPrepared(handle, $0, count, values, lengths, formats, 0) })
            } else {
                try check(PQsendQueryParams(handle, sql, count, types, values, lengths, formats, 0))
            }
        }
    }

    /// Runs SQL text without parameters, possibly several statements (for schema scripts); stops at the first error.
    public func execute(script: String) async throws {
        _ = try await simpleQuery(script, allowEmpty: true)
    }

    /// Runs SQL text without parameters through the simple query protocol, which names no statement (PgBouncer's
    /// admin console takes nothing else); returns the last statement's result.
    public func simpleQuery(_ sql: String, allowEmpty: Bool = false) async throws -> PostgresResult {
        try await exclusively {
            try check(PQsendQuery(handle, sql))
            return try await finishStatement(allowEmpty: allowEmpty)
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

    /// Returns the name of a statement prepared for `sql` with these parameter types, preparing it on first use; nil
    /// when the cache is full and the statement is to run unnamed.
    private func preparedStatement(for sql: String, types: [Oid]) async throws -> String? {
        let signature = StatementSignature(sql: sql, types: types)
        if let name = preparedStatements.name(for: signature) { return name }
        guard preparedStatements.hasRoom() else { return nil }
        let name = preparedStatements.newName()
        try check(PQsendPrepare(handle, name, sql, Int32(types.count), types))
        _ = try await finishStatement()
        preparedStatements.record(name, for: signature)
        return name
    }

    /// Flushes the statement, reads every result, and returns the last one or throws the first error. In a pipeline,
    /// reads one statement's results; throws ``PipelineAborted`` for a statement the server skipped.
    func finishStatement(allowEmpty: Bool = false, pending: OpaquePointer? = nil) async throws -> PostgresResult {
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
}
