/// Text appended as UTF-8 with the bytes a format reserves escaped: JSON strings and PostgreSQL's COPY text format
/// escape the same way, JSON escaping more.
public enum TextEscaping {
    /// A JSON string per RFC 8259, quoted: quotes, backslashes and control characters escaped; other text as is.
    public static func appendJSONString(_ text: String, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        append(text, to: &buffer, json: true)
        buffer.append(UInt8(ascii: "\""))
    }

    /// A field of COPY's text format: backslash, tab, newline and carriage return escaped with a backslash.
    public static func appendCopyText(_ text: String, to buffer: inout [UInt8]) {
        append(text, to: &buffer, json: false)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func append(_ text: String, to buffer: inout [UInt8], json: Bool) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\t"): buffer.append(contentsOf: #"\t"#.utf8)
            case UInt8(ascii: "\n"): buffer.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): buffer.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\"") where json: buffer.append(contentsOf: #"\""#.utf8)
            case 0..<0x20 where json:
                buffer.append(contentsOf: #"\u00"#.utf8)
                buffer.append(hex[Int(byte >> 4)])
                buffer.append(hex[Int(byte & 0x0F)])
            default: buffer.append(byte)
            }
        }
    }
}
