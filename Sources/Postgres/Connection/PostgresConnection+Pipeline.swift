import CLibPQ

/// Statements sent together in libpq's pipeline mode: one round trip for several statements.
extension PostgresConnection {
    /// Runs one statement like ``query(_:_:)``; the server cancels it (SQLSTATE 57014, "canceling statement due to
    /// statement timeout") when it runs, its preparation included, for longer than `statementTimeout`. A zero timeout
    /// sets none, and the session's own `statement_timeout` applies. `settings` (name, value) hold for the statement
    /// alone in the same way, e.g. `jit` off for a statement that compiling would slow down.
    ///
    /// The timeout and settings are set with `set_config(…, true)` sent in one pipeline with the statement, so they
    /// cost no round trip of their own. Outside a transaction block they share an implicit transaction that ends with
    /// the statement, so they never outlive it: whoever uses the connection next (a pool's next lease) has the
    /// session's settings. Inside a transaction block they last until the block ends. Being the server's, the timeout
    /// also ends a statement whose client died and can no longer cancel it.
    @discardableResult
    public func query(
        _ sql: String, _ parameters: [(any PostgresEncodable)?] = [], statementTimeout: Duration,
        settings: KeyValuePairs<String, String> = [:]
    ) async throws -> PostgresResult {
        let milliseconds = statementTimeout.settingMilliseconds
        var local: [(any PostgresEncodable)?] = settings.flatMap { [$0.key, $0.value] }
        if milliseconds > 0 { local += ["statement_timeout", "\(milliseconds)ms"] }
        guard !local.isEmpty else { return try await query(sql, parameters) }
        return try await exclusively {
            try await pipelined([
                (Self.setLocalSQL(count: local.count / 2), try EncodedParameters(local)),
                (sql, try EncodedParameters(parameters)),
            ])
        }
    }

    /// Sets `count` settings until the end of the current transaction, in one statement (each statement in the
    /// pipeline is one more execution for the server). Parameters: name, value, name, value, …
    private static func setLocalSQL(count: Int) -> String {
        let calls = (0..<count).map { "pg_catalog.set_config($\(2 * $0 + 1)::text, $\(2 * $0 + 2)::text, true)" }
        return "SELECT " + calls.joined(separator: ", ")
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
                if usesNamedStatements {
                    let signature = StatementSignature(sql: sql, types: parameters.types)
                    name = preparedStatements.name(for: signature) ?? prepares[signature]
                    if name == nil, preparedStatements.hasRoom(besides: prepares.count) {
                        let newName = preparedStatements.newName()
                        let types = parameters.types
                        try check(PQsendPrepare(handle, newName, sql, Int32(types.count), types))
                        prepares[signature] = newName
                        steps.append(.prepare(signature, newName))
                        name = newName
                    }
                }
                try send(sql, parameters, prepared: name)
                steps.append(.execute)
            }
            try check(PQpipelineSync(handle))
            var failure: (any Error)?
            var last: PostgresResult?
            for step in steps {
                do {
                    let result = try await finishStatement()
                    switch step {
                    case .prepare(let signature, let name): preparedStatements.record(name, for: signature)
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
}

/// One thing a pipeline sent whose results come back in order: a statement's preparation, or its execution.
private enum PipelineStep {
    case prepare(StatementSignature, String)
    case execute
}

/// A statement in a pipeline that the server skipped because one before it failed.
struct PipelineAborted: Error {}
