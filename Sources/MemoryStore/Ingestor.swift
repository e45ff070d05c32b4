import Postgres

/// Stores one batch of messages and re-chunks the sessions that gained any, in one transaction.
///
/// Steps, each one statement (no round trip per message or per session; see ``IngestStatements``):
/// 1. lock the batch's sessions (transaction-level advisory locks, taken in key order so two batches that share
///    sessions queue instead of deadlocking), then read each one's highest stored order key;
/// 2. store the messages that provably are new (``MemoryMessage/isNew(orderKey:inSessionUpTo:)``: all of them the
///    first time, and those said after everything their session holds) by COPY, which the server inserts in bulk as
///    it does for `psql \copy`: no stored message can conflict with them while the locks are held, and duplicates
///    within the batch are dropped before sending. Insert the others from arrays (`unnest`), skipping those already
///    stored (`ON CONFLICT DO NOTHING`, row by row). Either way, learn per session how many messages were new and the
///    lowest new order key;
/// 3. for each session that gained messages, find where its chunks must be rebuilt from, and read the ids of the
///    chunks and the ids and lengths of the messages from there on;
/// 4. cut them into chunks (``Chunker``, ``SessionRebuild``), delete the replaced chunks and insert the new ones,
///    their text and search vectors joined by the server.
///
/// Why chunks are the same however the messages were batched or cut into files: chunks are always recomputed from
/// the stored messages in conversation order (``ConversationOrder``), and a rebuild starts at a chunk boundary that
/// precedes every new message. Greedy chunking restarts cleanly at each boundary, and nothing before that boundary
/// changed, so the chunks before it are what a full rebuild would produce; from there on they are rebuilt. The start
/// is the first message of the last chunk that begins before the first new message (the whole session if there is
/// none, or if the session was cut with another `maxChunkChars`). Appending to a long session therefore re-reads only
/// its last chunk; a message said earlier than what is stored (a late export) rebuilds from the chunk it falls in.
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
        if let index = messages.firstIndex(where: { $0.createdAt.map { !MemoryMessage.isStorable($0) } ?? false }) {
            throw MemoryStoreError.invalidMessage(
                index: index, reason: "createdAt is outside the times PostgreSQL can store")
        }
        guard !messages.isEmpty else { return IngestResult(inserted: 0, duplicates: 0, chunksWritten: 0) }
        guard connection.transactionStatus == .idle else { throw MemoryStoreError.transactionInProgress }
        let keyed = messages.map { KeyedMessage(message: $0, key: $0.orderKey) }
        return try await connection.transaction { connection in
            try await connection.execute(
                script: IngestStatements.transactionSettings(statementTimeout: statementTimeout))
            let sessions = Self.sessions(of: messages)
            try await lockSessions(sessions, on: connection)
            let lastStored = try await lastStoredKeys(of: sessions, on: connection)
            let (new, others) = Self.partition(keyed) { keyed in
                let message = keyed.message
                return message.isNew(
                    orderKey: keyed.key,
                    inSessionUpTo: lastStored[SessionKey(user: message.user, session: message.session)])
            }
            var gainedSessions = GainedSessions()
            try await copy(new, into: &gainedSessions, on: connection)
            if !others.isEmpty {
                for session in try await insert(others, on: connection) { gainedSessions.add(session) }
            }
            let gained = gainedSessions.sessions
            let inserted = gained.reduce(0) { $0 + $1.count }
            let chunks = gained.isEmpty ? 0 : try await rechunk(gained, maxChunkChars: maxChunkChars, on: connection)
            return IngestResult(inserted: inserted, duplicates: messages.count - inserted, chunksWritten: chunks)
        }
    }

    /// A message and its order key, computed once.
    private struct KeyedMessage {
        var message: MemoryMessage
        var key: [UInt8]
    }

    /// A session whose chunks must be rebuilt from `lowestNewKey` on: it gained `count` messages there (none when
    /// the rebuild has another cause, such as an upgrade).
    struct GainedSession {
        var user: String
        var session: String
        var lowestNewKey: [UInt8]
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

    /// The highest stored order key of each session that holds messages.
    private func lastStoredKeys(of sessions: [SessionKey], on connection: PostgresConnection) async throws
        -> [SessionKey: [UInt8]]
    {
        let result = try await connection.query(
            statements.lastStoredKeys, [TextArray(sessions.map(\.user)), TextArray(sessions.map(\.session))])
        var keys: [SessionKey: [UInt8]] = [:]
        for row in result.rows {
            let (number, key) = try row.decode((Int, [UInt8]).self)
            guard sessions.indices.contains(number - 1) else {
                throw MemoryStoreError.unexpectedResult("session number \(number) of \(sessions.count)")
            }
            keys[sessions[number - 1]] = key
        }
        return keys
    }

    /// The sessions that gained messages, one entry each in order of first gain: a session can gain by COPY and by
    /// INSERT in one batch, and its chunks must be rebuilt once, from the lowest new order key.
    private struct GainedSessions {
        private(set) var sessions: [GainedSession] = []
        private var index: [SessionKey: Int] = [:]

        mutating func add(_ gain: GainedSession) {
            let key = SessionKey(user: gain.user, session: gain.session)
            if let at = index[key] {
                sessions[at].count += gain.count
                if gain.lowestNewKey.lexicographicallyPrecedes(sessions[at].lowestNewKey) {
                    sessions[at].lowestNewKey = gain.lowestNewKey
                }
            } else {
                index[key] = sessions.count
                sessions.append(gain)
            }
        }
    }

    /// The messages for which `isNew` holds, and the others, each in batch order.
    private static func partition(_ messages: [KeyedMessage], isNew: (KeyedMessage) -> Bool)
        -> (new: [KeyedMessage], others: [KeyedMessage])
    {
        var new: [KeyedMessage] = []
        var others: [KeyedMessage] = []
        new.reserveCapacity(messages.count)
        for message in messages {
            if isNew(message) { new.append(message) } else { others.append(message) }
        }
        return (new, others)
    }

    /// COPYs `messages`, each provably new to the store, each distinct message once: the batch may hold a message
    /// twice, and a second copy would meet the first in a unique index, which COPY cannot skip.
    private func copy(
        _ messages: [KeyedMessage], into gained: inout GainedSessions, on connection: PostgresConnection
    ) async throws {
        guard !messages.isEmpty else { return }
        // The content first seen with each identity, and any other contents seen with it (rare: an identity that
        // takes part with its content usually comes with one).
        var firstContent: [MessageIdentity: String] = [:]
        var otherContents: [MessageIdentity: [String]] = [:]
        try await connection.copyFrom(statements.copyMessages) { writer in
            for keyed in messages {
                let (message, key) = (keyed.message, keyed.key)
                let identity = message.identity
                if let first = firstContent[identity] {
                    guard identity.includesContent, first != message.content,
                        !otherContents[identity, default: []].contains(message.content)
                    else { continue }
                    otherContents[identity, default: []].append(message.content)
                } else {
                    firstContent[identity] = message.content
                }
                try writer.appendField(message.user)
                try writer.appendField(message.session)
                writer.appendField(message.position)
                try writer.appendField(message.role.rawValue)
                try writer.appendField(message.content)
                writer.appendField(message.createdAt)
                try writer.appendField(message.sourceID)
                writer.appendField(key)
                try await writer.endRow()
                gained.add(
                    GainedSession(user: message.user, session: message.session, lowestNewKey: key, count: 1))
            }
        }
    }

    private func insert(_ messages: [KeyedMessage], on connection: PostgresConnection) async throws
        -> [GainedSession]
    {
        let result = try await connection.query(
            statements.insertMessages,
            [
                TextArray(messages.map(\.message.user)),
                TextArray(messages.map(\.message.session)),
                TextArray(messages.map { String($0.message.position) }),
                TextArray(messages.map(\.message.role.rawValue)),
                TextArray(messages.map(\.message.content)),
                TextArray(messages.map { $0.message.createdAt?.postgresParameter.textForm }),
                TextArray(messages.map(\.message.sourceID)),
                TextArray(messages.map { $0.key.postgresParameter.textForm }),
            ]
        )
        return try result.rows.map { row in
            let (user, session, lowest, count) = try row.decode((String, String, [UInt8], Int).self)
            return GainedSession(user: user, session: session, lowestNewKey: lowest, count: count)
        }
    }

    /// Rebuilds the affected chunks of `sessions`; returns how many chunks were written.
    func rechunk(_ sessions: [GainedSession], maxChunkChars: Int, on connection: PostgresConnection)
        async throws -> Int
    {
        let tails = try await connection.query(
            statements.sessionTails,
            [
                TextArray(sessions.map(\.user)),
                TextArray(sessions.map(\.session)),
                TextArray(sessions.map { $0.lowestNewKey.postgresParameter.textForm }),
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
                (Int?, Int?, [UInt8]?, TextArray, TextArray, TextArray).self)
            let restart = zip3(restartID, restartCount, restartLast).map {
                SessionRebuild.RestartChunk(id: $0, messageCount: $1, lastKey: $2)
            }
            let rebuild = SessionRebuild(
                tail: try zip(Self.integers(tailIDs), Self.integers(tailLengths)).map { (id: $0, length: $1) },
                doomedChunks: try Self.integers(doomed),
                restart: restart,
                lowestNewKey: session.lowestNewKey,
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
