import CLibPQ

/// `COPY … FROM STDIN`, streamed: the statement starts here, and ``CopyWriter`` encodes rows and hands them back in
/// chunks.
extension PostgresConnection {
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
}
