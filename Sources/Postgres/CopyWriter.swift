/// Writes rows of a `COPY … FROM STDIN` in PostgreSQL's text format; see ``PostgresConnection/copyFrom(_:_:)``.
///
/// Rows are encoded into a buffer that goes to the server whenever it reaches ``chunkSize`` bytes, so memory stays
/// flat however many rows are written.
public final class CopyWriter {
    /// Bytes gathered before they are handed to libpq.
    public static let chunkSize = 64 * 1024

    private let connection: PostgresConnection
    private var buffer: [UInt8] = []
    /// Rows written so far.
    public private(set) var rowCount = 0

    init(connection: PostgresConnection) {
        self.connection = connection
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Writes one row; `nil` is SQL NULL. The values' order is the COPY statement's column order.
    public func writeRow(_ values: [(any PostgresEncodable)?]) async throws {
        for (index, value) in values.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            guard let value else {
                buffer.append(UInt8(ascii: "\\"))
                buffer.append(UInt8(ascii: "N"))
                continue
            }
            try appendEscaped(value.postgresParameter.textForm, column: index)
        }
        buffer.append(UInt8(ascii: "\n"))
        rowCount += 1
        if buffer.count >= Self.chunkSize { try await sendBuffered() }
    }

    /// Hands what is buffered to libpq and waits until it is on its way.
    func sendBuffered() async throws {
        guard !buffer.isEmpty else { return }
        try await connection.putCopyData(buffer)
        buffer.removeAll(keepingCapacity: true)
        try await connection.flush()
    }

    /// Escapes the characters COPY's text format gives meaning to: backslash, tab, newline and carriage return.
    private func appendEscaped(_ text: String, column: Int) throws {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"):
                buffer.append(UInt8(ascii: "\\"))
                buffer.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "\t"):
                buffer.append(UInt8(ascii: "\\"))
                buffer.append(UInt8(ascii: "t"))
            case UInt8(ascii: "\n"):
                buffer.append(UInt8(ascii: "\\"))
                buffer.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"):
                buffer.append(UInt8(ascii: "\\"))
                buffer.append(UInt8(ascii: "r"))
            case 0:
                throw PostgresConnectionError(
                    kind: .invalidParameter,
                    message: "COPY row \(rowCount + 1), column \(column + 1) contains a NUL character",
                    target: nil
                )
            default:
                buffer.append(byte)
            }
        }
    }
}
