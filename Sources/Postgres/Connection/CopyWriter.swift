import Foundation

/// Writes rows of a `COPY … FROM STDIN` in PostgreSQL's text format; see ``PostgresConnection/copyFrom(_:_:)``.
///
/// Rows are encoded into a buffer that goes to the server whenever it reaches ``chunkSize`` bytes, so memory stays
/// flat however many rows are written.
public final class CopyWriter {
    /// Bytes gathered before they are handed to libpq.
    static let chunkSize = 64 * 1024

    private let connection: PostgresConnection
    private var buffer: [UInt8] = []
    /// Rows written so far.
    private var rowCount = 0

    init(connection: PostgresConnection) {
        self.connection = connection
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Fields of the row being written so far.
    private var fieldCount = 0

    /// Writes one row; `nil` is SQL NULL. The values' order is the COPY statement's column order.
    func writeRow(_ values: [(any PostgresEncodable)?]) async throws {
        for value in values {
            try appendField(value.map { $0.postgresParameter.textForm })
        }
        try await endRow()
    }

    // The typed fields below let a caller write rows without boxing each value in an existential and rendering it
    // as a String first: ingest writes six fields per message.

    /// Appends a text field to the current row; `nil` is SQL NULL.
    public func appendField(_ text: String?) throws {
        startField()
        guard let text else { return appendNull() }
        try appendEscaped(text)
    }

    /// Appends an integer field to the current row.
    public func appendField(_ value: Int) {
        startField()
        buffer.append(contentsOf: String(value).utf8)
    }

    /// Appends a timestamp field (`timestamptz` text, UTC, microseconds) to the current row; `nil` is SQL NULL.
    public func appendField(_ date: Date?) {
        startField()
        guard let date else { return appendNull() }
        TimestampText.append(date, to: &buffer)
    }

    /// Appends a `bytea` field in hex form: `\\x` and two digits per byte, the backslash doubled as COPY's text format
    /// wants it.
    public func appendField(_ bytes: [UInt8]) {
        startField()
        buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
        ByteaText.appendHex(bytes, to: &buffer)
    }

    /// Ends the current row, sending what is buffered once it reaches ``chunkSize``.
    public func endRow() async throws {
        buffer.append(UInt8(ascii: "\n"))
        rowCount += 1
        fieldCount = 0
        if buffer.count >= Self.chunkSize { try await sendBuffered() }
    }

    private func startField() {
        if fieldCount > 0 { buffer.append(UInt8(ascii: "\t")) }
        fieldCount += 1
    }

    private func appendNull() {
        buffer.append(UInt8(ascii: "\\"))
        buffer.append(UInt8(ascii: "N"))
    }

    /// Hands what is buffered to libpq and waits until it is on its way.
    func sendBuffered() async throws {
        guard !buffer.isEmpty else { return }
        try await connection.putCopyData(buffer)
        buffer.removeAll(keepingCapacity: true)
        try await connection.flush()
    }

    /// Escapes the characters COPY's text format gives meaning to: backslash, tab, newline and carriage return. The
    /// bytes between them are appended in runs.
    private func appendEscaped(_ text: String) throws {
        var text = text
        try text.withUTF8 { bytes in
            var runStart = 0
            for index in bytes.indices where Self.needsEscape(bytes[index]) {
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                try appendEscapedByte(bytes[index])
                runStart = index + 1
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r") || byte == 0
    }

    private func appendEscapedByte(_ byte: UInt8) throws {
        switch byte {
        case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        default:
            throw PostgresConnectionError(
                kind: .invalidParameter,
                message: "COPY row \(rowCount + 1), column \(fieldCount) contains a NUL character",
                target: nil
            )
        }
    }
}
