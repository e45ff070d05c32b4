import Foundation
import MemoryStore
import Postgres
import SampleData

/// The bench's input files, generated before anything is timed.
enum DataFiles {
    /// The conversations every ingest uses: 50 users, 10 sessions each (`worker generate`'s default), seed 1.
    static func generator(messages: Int) throws -> ConversationGenerator {
        try ConversationGenerator(seed: 1, users: 50, sessionsPerUser: 10, totalMessages: messages)
    }

    /// Writes the messages as JSON Lines (the ingest job's source, byte for byte what `worker generate` writes)
    /// and, if `tsv` is given, the same rows in COPY's text format for psql: user_id, session_id, position, role,
    /// content, created_at, order_key.
    ///
    /// The generator is deterministic, so both files hold the same messages in the same order. A position is the
    /// 0-based index of the message's line, which is how the ingest job places the messages of a file, and the
    /// order key is the one the worker stores.
    static func writeMessages(_ generator: ConversationGenerator, jsonl: URL, tsv: URL?) throws {
        try generator.writeJSONLines(to: jsonl)
        guard let tsv else { return }
        try generator.writeLines(to: tsv) { message, position, buffer in
            let orderKey = MemoryMessage(
                user: message.user, session: message.session, position: position, role: message.role,
                content: message.content, createdAt: message.createdAt
            ).orderKey
            let fields = [
                message.user, message.session, String(position), message.role.rawValue, message.content,
                message.createdAtText, orderKey.postgresParameter.textForm,
            ]
            for (index, field) in fields.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: "\t")) }
                TextEscaping.appendCopyText(field, to: &buffer)
            }
        }
    }
}
