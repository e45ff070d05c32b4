import Postgres

/// Stores one batch of messages and re-chunks the sessions that gained any, in one transaction.
///
/// Steps, each one statement (no round trip per message or per session; see ``IngestStatements``):
/// 1. lock the batch's sessions (transaction-level advisory locks, taken in key order so two batches that share
///    sessions queue instead of deadlocking), then read each one's highest stored position;
/// 2. store the messages placed after everything their session holds (all of them, the first time) by COPY, which
///    the server inserts in bulk as it does for `psql \copy`: no stored message can conflict with them while the
///    locks are held, and duplicates within the batch are dropped before sending. Insert the others from arrays
///    (`unnest`), skipping those already stored (`ON CONFLICT DO NOTHING`, row by row). Either way, learn per session
///    how many messages were new and the lowest new position;
/// 3. for each session that gained messages, find where its chunks must be rebuilt from, and read the ids of the
///    chunks and the ids and lengths of the messages from there on;
/// 4. cut them into chunks (``Chunker``, ``SessionRebuild``), delete the replaced chunks and insert the new ones,
///    their text and search vectors joined by the server.
///
/// Why chunks are the same however the messages were batched: chunks are always recomputed from the stored
/// messages, and a rebuild starts at a chunk boundary that precedes every new message. Greedy chunking restarts
/// cleanly at each boundary, and nothing before that boundary changed, so the chunks before it are what a full rebuild
/// would produce; from there on they are rebuilt. The start is the first message of the last chunk that begins at a
/// lower position than the first new message (the whole session if there is none, or if the session was cut with
/// another `maxChunkChars`). Appending to a long session therefore re-reads only its last chunk.
///
/// The session locks make a concurrent batch on the same session wait until this one commits; the statements after
/// the lock run in READ COMMITTED (set explicitly), so they see what that batch committed.
struct Ingestor {
    let statements: IngestStatements
    /// Each statement's `statement_timeout`, set for the transaction only: the connection goes back to a pool.
    let statementTimeout: Duration

    init(names: StoreNames, statementTimeout: Duration) {
        statements = IngestStatements(names: names)
        self.statementTimeout = statementTimeout
    }

    func ingest(_ messages: [MemoryMessage], maxChunkChars: Int, on connection: PostgresConnection) async throws
        -> IngestResult
    {
        guard maxChunkChars >= 1, maxChunkChars <= Int(Int32.max) else {
            throw MemoryStoreError.invalidChunkSize(maxChunkChars)
        }
        for (index, message) in messages.enumerated() {
            if let problem = message.problem { throw MemoryStoreError.invalidMessage(index: index, reason: problem) }
        }
        guard !messages.isEmpty else { return IngestResult(inserted: 0, duplicates: 0, chunksWritten: 0) }
        guard connection.transactionStatus == .idle else { throw MemoryStoreError.transactionInProgress }
        return try await connection.transaction { connection in
            try await connection.execute(
                script: IngestStatements.transactionSettings(statementTimeout: statementTimeout))
            let sessions = Self.sessions(of: messages)
            try await lockSessions(sessions, on: connection)
            let lastStored = try await lastStoredPositions(of: sessions, on: connection)
            let (appended, others) = Self.partition(messages) { message in
                lastStored[SessionKey(user: message.user, session: message.session)].map { message.position > $0 }
                    ?? true
            }
            var gainedSessions = GainedSessions()
            try await copy(appended, into: &gainedSessions, on: connection)
            if !others.isEmpty {
                for session in try await insert(others, on: connection) { gainedSessions.add(session) }
            }
            let gained = gainedSessions.sessions
            let inserted = gained.reduce(0) { $0 + $1.count }
            let chunks = gained.isEmpty ? 0 : try await rechunk(gained, maxChunkChars: maxChunkChars, on: connection)
            return IngestResult(inserted: inserted, duplicates: messages.count - inserted, chunksWritten: chunks)
        }
    }

    /// A session that gained messages in this batch.
    private struct GainedSession {
        var user: String
        var session: String
        var lowestNewPosition: Int
        var count: Int
    }

    /// The batch's sessions, each once, in order of first appearance.
    private static func sessions(of messages: [MemoryMessage]) -> [SessionKey] {
        var seen = Set<SessionKey>()
        return messages.compactMap { message in
            let key = SessionKey(user: message.user, session: message.session)
            return seen.insert(key).inserted ? key : nil
        }
    }

    private func lockSessions(_ sessions: [SessionKey], on connection: PostgresConnection) async throws {
        let schema = statements.names.schema.name
        try await connection.query(
            statements.lockSessions,
            [schema, TextArray(sessions.map(\.user)), TextArray(sessions.map(\.session))])
    }

    /// The highest stored position of each session that holds messages.
    private func lastStoredPositions(of sessions: [SessionKey], on connection: PostgresConnection) async throws
        -> [SessionKey: Int]
    {
        let result = try await connection.query(
            statements.lastStoredPositions, [TextArray(sessions.map(\.user)), TextArray(sessions.map(\.session))])
        var positions: [SessionKey: Int] = [:]
        for row in result.rows {
            let (number, position) = try row.decode((Int, Int).self)
            guard sessions.indices.contains(number - 1) else {
                throw MemoryStoreError.unexpectedResult("session number \(number) of \(sessions.count)")
            }
            positions[sessions[number - 1]] = position
        }
        return positions
    }

    /// The sessions that gained messages, one entry each in order of first gain: a session can gain by COPY and by
    /// INSERT in one batch, and its chunks must be rebuilt once, from the lowest new position.
    private struct GainedSessions {
        private(set) var sessions: [GainedSession] = []
        private var index: [SessionKey: Int] = [:]

        mutating func add(_ gain: GainedSession) {
            let key = SessionKey(user: gain.user, session: gain.session)
            if let at = index[key] {
                sessions[at].count += gain.count
                sessions[at].lowestNewPosition = min(sessions[at].lowestNewPosition, gain.lowestNewPosition)
            } else {
                index[key] = sessions.count
                sessions.append(gain)
            }
        }
    }

    /// The messages for which `isAppended` holds, and the others, each in batch order.
    private static func partition(_ messages: [MemoryMessage], isAppended: (MemoryMessage) -> Bool)
        -> (appended: [MemoryMessage], others: [MemoryMessage])
    {
        var appended: [MemoryMessage] = []
        var others: [MemoryMessage] = []
        appended.reserveCapacity(messages.count)
        for message in messages {
            if isAppended(message) { appended.append(message) } else { others.append(message) }
        }
        return (appended, others)
    }

    /// COPYs `messages`, each placed after everything its session holds, each distinct message once (the identity
    /// compares the content's hash; equal contents have equal hashes).
    private func copy(
        _ messages: [MemoryMessage], into gained: inout GainedSessions, on connection: PostgresConnection
    ) async throws {
        guard !messages.isEmpty else { return }
        // The content first seen at each slot, and any other contents seen there (rare: a slot usually holds one).
        var firstContent: [MessageSlot: String] = [:]
        var otherContents: [MessageSlot: [String]] = [:]
        try await connection.copyFrom(statements.copyMessages) { writer in
            for message in messages {
                let slot = MessageSlot(user: message.user, session: message.session, position: message.position)
                if let first = firstContent[slot] {
                    if first == message.content || otherContents[slot, default: []].contains(message.content) {
                        continue
                    }
                    otherContents[slot, default: []].append(message.content)
                } else {
                    firstContent[slot] = message.content
                }
                try writer.appendField(message.user)
                try writer.appendField(message.session)
                writer.appendField(message.position)
                try writer.appendField(message.role)
                try writer.appendField(message.content)
                writer.appendField(message.createdAt)
                try await writer.endRow()
                gained.add(
                    GainedSession(
                        user: message.user, session: message.session, lowestNewPosition: message.position, count: 1))
            }
        }
    }

    private func insert(_ messages: [MemoryMessage], on connection: PostgresConnection) async throws
        -> [GainedSession]
    {
        let result = try await connection.query(
            statements.insertMessages,
            [
                TextArray(messages.map(\.user)),
                TextArray(messages.map(\.session)),
                TextArray(messages.map { String($0.position) }),
                TextArray(messages.map(\.role)),
                TextArray(messages.map(\.content)),
                TextArray(messages.map { $0.createdAt?.postgresParameter.textForm }),
            ]
        )
        return try result.rows.map { row in
            let (user, session, lowest, count) = try row.decode((String, String, Int, Int).self)
            return GainedSession(user: user, session: session, lowestNewPosition: lowest, count: count)
        }
    }

    /// Rebuilds the affected chunks of `sessions`; returns how many chunks were written.
    private func rechunk(_ sessions: [GainedSession], maxChunkChars: Int, on connection: PostgresConnection)
        async throws -> Int
    {
        let tails = try await connection.query(
            statements.sessionTails,
            [
                TextArray(sessions.map(\.user)),
                TextArray(sessions.map(\.session)),
                TextArray(sessions.map { String($0.lowestNewPosition) }),
                maxChunkChars,
            ]
        )
        guard tails.rows.count == sessions.count else {
            throw MemoryStoreError.unexpectedResult(
                "\(tails.rows.count) session rows for \(sessions.count) sessions")
        }
        var deleted: [String?] = []
        var messageIDs: [String?] = []
        var chunkNumbers: [String?] = []
        var chunksBefore = 0
        // One row per session, in the order given.
        for (session, row) in zip(sessions, tails.rows) {
            let (restartID, restartCount, restartLast, doomed, tailIDs, tailLengths) = try row.decode(
                (Int?, Int?, Int?, TextArray, TextArray, TextArray).self)
            let restart = zip3(restartID, restartCount, restartLast).map {
                SessionRebuild.RestartChunk(id: $0, messageCount: $1, lastPosition: $2)
            }
            let rebuild = SessionRebuild(
                tail: try zip(Self.integers(tailIDs), Self.integers(tailLengths)).map { (id: $0, length: $1) },
                doomedChunks: try Self.integers(doomed),
                restart: restart,
                lowestNewPosition: session.lowestNewPosition,
                maxChars: maxChunkChars
            )
            deleted += rebuild.deletedChunks.map { String($0) }
            messageIDs += rebuild.messageIDs.map { String($0) }
            chunkNumbers += rebuild.chunkIndexes.map { String(chunksBefore + $0) }
            chunksBefore += (rebuild.chunkIndexes.last ?? -1) + 1
        }
        guard !messageIDs.isEmpty || !deleted.isEmpty else { return 0 }
        let written = try await connection.query(
            statements.replaceChunks,
            [TextArray(messageIDs), TextArray(chunkNumbers), maxChunkChars, TextArray(deleted)]
        )
        return written.rowsAffected
    }

    /// The integers of an integer array read as `text[]`.
    private static func integers(_ array: TextArray) throws -> [Int] {
        try array.elements.map { element in
            guard let element, let value = Int(element) else {
                throw MemoryStoreError.unexpectedResult("expected an integer array element, got \(element ?? "NULL")")
            }
            return value
        }
    }
}

/// All three values, or `nil` if any is missing.
private func zip3<A, B, C>(_ a: A?, _ b: B?, _ c: C?) -> (A, B, C)? {
    guard let a, let b, let c else { return nil }
    return (a, b, c)
}

/// A (user, session) pair, for de-duplicating a batch's sessions.
private struct SessionKey: Hashable {
    var user: String
    var session: String
}

/// A place in a session, which several messages may share.
private struct MessageSlot: Hashable {
    var user: String
    var session: String
    var position: Int
}
