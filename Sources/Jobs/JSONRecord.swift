import Diagnostics
import Foundation

/// One line of a JSON Lines source parsed into an object, with field access that says exactly what is wrong.
///
/// `JSONSerialization` does the parsing: it is in every Foundation, is fast on small objects, and leaves the type
/// checks to this code, which phrases them for people.
struct JSONRecord {
    private let object: [String: Any]

    /// The object on `bytes`, or what is wrong with the line.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONRecord, RuleViolation> {
        if let offset = invalidUTF8Offset(bytes) {
            let byte = String(bytes[offset], radix: 16, uppercase: true)
            return .failure(
                RuleViolation(
                    "is not valid UTF-8 (byte \(offset + 1) of the line is 0x\(byte)); expected UTF-8 encoded JSON"))
        }
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
        return .success(JSONRecord(object: object))
    }

    /// The text of a required string field, or what is wrong with it; `expected` describes a good value.
    func string(_ key: String, expected: String) -> Result<String, RuleViolation> {
        switch optionalString(key, expected: expected) {
        case .success(let value?): .success(value)
        case .success(nil) where object[key] == nil:
            .failure(RuleViolation("field '\(key)' is missing; expected \(expected)"))
        case .success(nil): .failure(RuleViolation("field '\(key)' is null; expected \(expected)"))
        case .failure(let violation): .failure(violation)
        }
    }

    /// The text of an optional string field; nil when it is absent or null (what exporters write for "unknown").
    func optionalString(_ key: String, expected: String) -> Result<String?, RuleViolation> {
        guard let value = object[key], !(value is NSNull) else { return .success(nil) }
        guard let text = value as? String else {
            return .failure(RuleViolation("field '\(key)' is \(Self.describe(value)); expected \(expected)"))
        }
        return .success(text)
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
        guard let firstNonASCII = bytes.firstIndex(where: { $0 >= 0x80 }) else { return nil }
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
