import Diagnostics
import Foundation

/// One line of a JSON Lines source parsed into an object, with field access that says exactly what is wrong.
///
/// The usual record, a flat object of strings and nulls, is read by ``FlatObjectReader``: ingest reads one per
/// message, and `JSONSerialization` spent most of the reader's time boxing values into `Any` and casting them back.
/// Every other line (other value types, duplicate keys, anything malformed) goes to `JSONSerialization`, which is in
/// every Foundation and decides what is valid JSON and how its errors read; this code phrases the type checks.
struct JSONRecord {
    /// A field's value as the checks need it.
    enum Field {
        case string(String)
        /// A whole number, as written (ids are numbers in some exports).
        case integer(String)
        case null
        /// Any other JSON value, described as a message names it ("the number 7").
        case other(description: String)
    }

    /// In the order the line has them; objects have a handful of fields, so a scan beats hashing.
    private let fields: [(key: String, value: Field)]

    /// The object on `bytes`, or what is wrong with the line.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONRecord, RuleViolation> {
        if let offset = invalidUTF8Offset(bytes) {
            let byte = String(bytes[offset], radix: 16, uppercase: true)
            return .failure(
                RuleViolation(
                    "is not valid UTF-8 (byte \(offset + 1) of the line is 0x\(byte)); expected UTF-8 encoded JSON"))
        }
        var reader = FlatObjectReader(bytes: bytes)
        if let fields = reader.read() { return .success(JSONRecord(fields: fields)) }
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            return .failure(RuleViolation("is empty; expected a JSON object"))
        }
        // No copy: the bytes outlive the call, and the parser copies what it keeps into the strings it makes.
        let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none)
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            return .failure(
                RuleViolation(
                    "is not valid JSON\(detail.map { " (\(Quote.line($0)))" } ?? ""); expected one JSON object per line"
                ))
        }
        guard let object = value as? [String: Any] else {
            return .failure(RuleViolation("is \(describe(value)), not an object; expected one JSON object per line"))
        }
        return .success(
            JSONRecord(
                fields: object.map { key, value in
                    switch value {
                    case is NSNull: (key, .null)
                    case let text as String: (key, .string(text))
                    case let number as NSNumber where isInteger(number): (key, .integer(number.stringValue))
                    default: (key, .other(description: describe(value)))
                    }
                }))
    }

    /// The text of a required string field, or what is wrong with it; `expected` describes a good value.
    func string(_ key: String, expected: String) -> Result<String, RuleViolation> {
        switch field(key) {
        case .string(let text): .success(text)
        case nil: .failure(RuleViolation("field '\(key)' is missing; expected \(expected)"))
        case .null: .failure(RuleViolation("field '\(key)' is null; expected \(expected)"))
        case .integer(let text): .failure(Self.wrongType(key, "the number \(text)", expected))
        case .other(let description): .failure(Self.wrongType(key, description, expected))
        }
    }

    /// The text of an optional string field; nil when it is absent or null (what exporters write for "unknown").
    func optionalString(_ key: String, expected: String) -> Result<String?, RuleViolation> {
        switch field(key) {
        case .string(let text): .success(text)
        case nil, .null: .success(nil)
        case .integer(let text): .failure(Self.wrongType(key, "the number \(text)", expected))
        case .other(let description): .failure(Self.wrongType(key, description, expected))
        }
    }

    /// An optional field that may be a string or a whole number, as text: `"m-17"` and `17` give "m-17" and "17".
    func optionalStringOrInteger(_ key: String, expected: String) -> Result<String?, RuleViolation> {
        switch field(key) {
        case .string(let text), .integer(let text): .success(text)
        case nil, .null: .success(nil)
        case .other(let description): .failure(Self.wrongType(key, description, expected))
        }
    }

    private func field(_ key: String) -> Field? {
        fields.first { $0.key == key }?.value
    }

    private static func wrongType(_ key: String, _ description: String, _ expected: String) -> RuleViolation {
        RuleViolation("field '\(key)' is \(description); expected \(expected)")
    }

    /// Whether `JSONSerialization` read a whole number (not a boolean, which Linux Foundation also makes an NSNumber,
    /// nor a number written with a fraction or an exponent).
    private static func isInteger(_ number: NSNumber) -> Bool {
        type(of: number) != type(of: NSNumber(value: true)) && "silqQISL".contains(String(cString: number.objCType))
    }

    /// A JSON value as a message names it: its type, and the value when short.
    static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let text as String: return "the string \(Quote.text(text))"
        case let number as NSNumber:
            // Linux Foundation bridges numbers to Bool, so booleans are told apart by their class.
            if type(of: number) == type(of: NSNumber(value: true)) {
                return "the boolean \(number.boolValue)"
            }
            return "the number \(number.stringValue)"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "a \(type(of: value))"
        }
    }

    /// The offset of the first byte that is not part of valid UTF-8, or nil when all of it is valid.
    static func invalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        // Eight bytes at a time up to the first word with a non-ASCII byte: most lines are mostly ASCII.
        var asciiPrefix = 0
        while asciiPrefix + 8 <= bytes.count,
            bytes.loadUnaligned(fromByteOffset: asciiPrefix, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
        {
            asciiPrefix += 8
        }
        guard let firstNonASCII = bytes[asciiPrefix...].firstIndex(where: { $0 >= 0x80 }) else { return nil }
        var iterator = bytes[firstNonASCII...].makeIterator()
        var decoder = UTF8()
        var offset = firstNonASCII
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}

/// Reads a line holding one JSON object whose values are all strings, null or short whole numbers, with distinct keys;
/// any other line gives nil, for `JSONSerialization` to read or reject. The line's UTF-8 is already checked.
private struct FlatObjectReader {
    let bytes: UnsafeRawBufferPointer
    private var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func read() -> [(key: String, value: JSONRecord.Field)]? {
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return nil }
        var fields: [(key: String, value: JSONRecord.Field)] = []
        skipWhitespace()
        if !take(UInt8(ascii: "}")) {
            repeat {
                skipWhitespace()
                guard let key = string() else { return nil }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                let value: JSONRecord.Field
                if let text = string() {
                    value = .string(text)
                } else if takeNull() {
                    value = .null
                } else if let number = integer() {
                    value = .integer(number)
                } else {
                    return nil
                }
                // JSONSerialization decides what a repeated key means.
                guard !fields.contains(where: { $0.key == key }) else { return nil }
                fields.append((key, value))
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { return nil }
        }
        skipWhitespace()
        return index == bytes.count ? fields : nil
    }

    /// The string token here, decoded; nil if there is none or it is malformed.
    private mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        // Most strings have no escapes: their bytes are the string.
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                defer { index += 1 }
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            case UInt8(ascii: "\\"):
                return escapedString(from: start)
            case ..<0x20:
                return nil
            default:
                index += 1
            }
        }
        return nil
    }

    /// The rest of a string that has escapes, `start` being its first byte and `index` its first backslash.
    private mutating func escapedString(from start: Int) -> String? {
        var decoded = [UInt8](bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escaped)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    UTF8.encode(scalar) { decoded.append($0) }
                default: return nil
                }
            case ..<0x20:
                return nil
            default:
                decoded.append(byte)
            }
        }
        return nil
    }

    /// The scalar of `\uXXXX` (after the `u`), joining a surrogate pair; nil for a lone surrogate.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let unit = hex4() else { return nil }
        guard (0xD800..<0xDC00).contains(unit) else { return Unicode.Scalar(unit) }
        guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00..<0xE000).contains(low)
        else { return nil }
        return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    /// A whole number from 0 with at most 18 digits (so it fits `Int64`, and `JSONSerialization` would spell it the
    /// same), as written; nil for anything else, signs, fractions and exponents included, which leaves the line to
    /// `JSONSerialization`.
    private mutating func integer() -> String? {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        let digits = index - start
        let leadingZero = digits > 1 && bytes[start] == UInt8(ascii: "0")
        let continues =
            index < bytes.count && [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index])
        guard (1...18).contains(digits), !leadingZero, !continues else {
            index = start
            return nil
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    private mutating func takeNull() -> Bool {
        guard bytes.count - index >= 4, bytes[index..<index + 4].elementsEqual("null".utf8) else { return false }
        index += 4
        return true
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }
}
