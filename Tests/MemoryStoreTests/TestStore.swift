import Foundation
import MemoryStore
import Postgres
import Testing

/// The private test cluster (`DATABASE_URL`, set by `make test`) and a schema of the test's own.
///
/// Tests run in parallel with each other and with other suites on one database, so each test migrates a store into a
/// schema with a random name and drops it when done.
enum TestDatabase {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String { "DATABASE_URL is not set: run the tests with 'make test', which starts the cluster" }
    }

    static func connect() async throws -> PostgresConnection {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        var configuration = try ConnectionConfiguration(url)
        configuration["application_name"] = "memory-store-tests"
        return try await PostgresConnection.connect(configuration)
    }

    /// A schema name no other test uses.
    static func uniqueSchema(_ prefix: String = "mst") -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Runs `body` with a connection and a store whose schema is dropped afterwards (also when `body` throws).
    static func withStore<Value>(
        migrated: Bool = true,
        textSearchConfig: String = "english",
        ranking: Ranking = Ranking(),
        _ body: (MemoryStore, PostgresConnection) async throws -> Value
    ) async throws -> Value {
        let connection = try await connect()
        defer { connection.close() }
        let store = MemoryStore(schema: uniqueSchema(), textSearchConfig: textSearchConfig, ranking: ranking)
        do {
            if migrated { try await store.migrate(on: connection) }
            let value = try await body(store, connection)
            try await drop(store, on: connection)
            return value
        } catch {
            try? await drop(store, on: connection)
            throw error
        }
    }

    static func drop(_ store: MemoryStore, on connection: PostgresConnection) async throws {
        if connection.transactionStatus != .idle { try? await connection.execute(script: "ROLLBACK") }
        try await connection.execute(script: "DROP SCHEMA IF EXISTS \"\(store.schema)\" CASCADE")
    }

    static func count(_ table: String, in store: MemoryStore, on connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT count(*) FROM \"\(store.schema)\".\(table)").rows[0].decode(0, as: Int.self)
    }

    /// How many chunks have a search vector whose lexemes differ from those of their text parsed whole: a chunk's
    /// vector is its messages' vectors concatenated, which must find the same words as the joined text.
    static func chunkVectorsMismatchingText(of store: MemoryStore, on connection: PostgresConnection) async throws
        -> Int
    {
        try await connection.query(
            """
            SELECT count(*) FROM "\(store.schema)".chunks
            WHERE strip(tsv) <> strip(to_tsvector($1::regconfig, content))
            """,
            [store.textSearchConfig]
        ).rows[0].decode(0, as: Int.self)
    }

    /// Every chunk of the store, in a batch-independent order, without ids (which depend on insertion order).
    static func chunks(of store: MemoryStore, on connection: PostgresConnection) async throws -> [ChunkRow] {
        let result = try await connection.query(
            """
            SELECT user_id, session_id, first_key::text, last_key::text, message_count, content, created_at, tsv::text
            FROM "\(store.schema)".chunks
            ORDER BY user_id, session_id, first_key, first_hash, last_key, content
            """
        )
        return try result.rows.map { row in
            let (user, session, first, last, count, content, createdAt, vector) = try row.decode(
                (String, String, String, String, Int, String, Date, String).self)
            return ChunkRow(
                user: user, session: session, first: first, last: last, messageCount: count, content: content,
                createdAt: createdAt, vector: vector)
        }
    }
}

/// A chunk as the tests compare them.
struct ChunkRow: Equatable, CustomStringConvertible {
    var user: String
    var session: String
    /// The order keys of the first and last message, in `bytea`'s hex text.
    var first: String
    var last: String
    var messageCount: Int
    var content: String
    var createdAt: Date
    /// The search vector as text: lexemes with positions.
    var vector: String

    var description: String { "\(user)/\(session) \(messageCount) message(s): \(content.prefix(40))" }
}

/// Deterministic test messages.
enum Fixtures {
    static let start = Date(timeIntervalSince1970: 1_700_000_000)

    /// `sessions` sessions of `perSession` messages for each user, contents of varied length, every message with a
    /// distinct time.
    static func conversation(users: [String], sessions: Int, perSession: Int) -> [MemoryMessage] {
        var messages: [MemoryMessage] = []
        var generator = SplitMix64(seed: 42)
        let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
        var tick = 0
        for user in users {
            for session in 0..<sessions {
                for position in 0..<perSession {
                    let wordCount = Int(generator.next() % 30) + 1
                    let text = (0..<wordCount).map { _ in words[Int(generator.next() % UInt64(words.count))] }
                    tick += 1
                    messages.append(
                        MemoryMessage(
                            user: user,
                            session: "s\(session)",
                            position: position,
                            role: position % 2 == 0 ? .user : .assistant,
                            content: text.joined(separator: " "),
                            createdAt: start.addingTimeInterval(Double(tick))
                        ))
                }
            }
        }
        return messages
    }

    /// `messages` cut into consecutive batches of `size`.
    static func batches(_ messages: [MemoryMessage], size: Int) -> [[MemoryMessage]] {
        stride(from: 0, to: messages.count, by: size).map { Array(messages[$0..<min($0 + size, messages.count)]) }
    }
}

/// A small seeded generator, so test data is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
