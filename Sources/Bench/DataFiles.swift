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

    /// Writes the messages as JSON Lines (the ingest job's source) and, if `tsv` is given, the same rows in COPY's
    /// text format for psql: user_id, session_id, position, role, content, created_at, order_key.
    ///
    /// Both come from one pass over the generator, so they hold the same messages in the same order; the JSON
    /// Lines are byte for byte what `worker generate` writes. A position is the 0-based index of the message's line,
    /// which is how the ingest job places the messages of a file, and the order key is the one the worker stores.
    @discardableResult
    static func writeMessages(_ generator: ConversationGenerator, jsonl: URL, tsv: URL?) throws -> Int {
        let json = try FileSink(jsonl)
        let rows = try tsv.map(FileSink.init)
        var count = 0
        for message in generator.messages() {
            message.appendJSON(to: &json.buffer)
            json.buffer.append(UInt8(ascii: "\n"))
            if let rows {
                let orderKey = MemoryMessage(
                    user: message.user, session: message.session, position: count, role: message.role,
                    content: message.content, createdAt: message.createdAt
                ).orderKey
                let fields = [
                    message.user, message.session, String(count), message.role.rawValue, message.content,
                    message.createdAtText, orderKey.postgresParameter.textForm,
                ]
                for (index, field) in fields.enumerated() {
                    if index > 0 { rows.buffer.append(UInt8(ascii: "\t")) }
                    appendCopyText(field, to: &rows.buffer)
                }
                rows.buffer.append(UInt8(ascii: "\n"))
                try rows.flushIfFull()
            }
            try json.flushIfFull()
            count += 1
        }
        try json.finish()
        try rows?.finish()
        return count
    }

    /// COPY's text format: backslash, tab, newline and carriage return are escaped with a backslash.
    private static func appendCopyText(_ text: String, to buffer: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\t"): buffer.append(contentsOf: #"\t"#.utf8)
            case UInt8(ascii: "\n"): buffer.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): buffer.append(contentsOf: #"\r"#.utf8)
            default: buffer.append(byte)
            }
        }
    }
}

/// A file written in 64 KiB pieces.
private final class FileSink {
    let handle: FileHandle
    var buffer: [UInt8] = []

    init(_ url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw BenchError("cannot create \(url.path)")
        }
        handle = try FileHandle(forWritingTo: url)
        buffer.reserveCapacity(80 * 1024)
    }

    func flushIfFull() throws {
        if buffer.count >= 64 * 1024 { try flush() }
    }

    func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() throws {
        try flush()
        try handle.close()
    }
}
