import Foundation

/// A Swift type that a result column (in PostgreSQL's text format) can be read as.
public protocol PostgresDecodable {
    /// Reads the column's text; `nil` when the text is not a value of this type.
    static func decode(postgresText text: UnsafeRawBufferPointer) -> Self?

    /// The value SQL NULL becomes, or `nil` when this type cannot hold NULL (only `Optional` can).
    static var decodedNull: Self? { get }
}

extension PostgresDecodable {
    public static var decodedNull: Self? { nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> Self? {
        Wrapped.decode(postgresText: text).map { .some($0) }
    }

    public static var decodedNull: Self? { .some(.none) }
}

extension String: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> String? {
        String(decoding: text, as: UTF8.self)
    }
}

extension FixedWidthInteger where Self: SignedInteger {
    /// Reads optional sign and decimal digits, refusing overflow.
    fileprivate static func decodeDecimal(_ text: UnsafeRawBufferPointer) -> Self? {
        var index = 0
        var negative = false
        if let first = text.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            index = 1
        }
        guard index < text.count else { return nil }
        var value: Self = 0
        while index < text.count {
            let byte = text[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Self(byte - UInt8(ascii: "0"))
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) =
                negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
            index += 1
        }
        return value
    }
}

extension Int: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> Int? { decodeDecimal(text) }
}

extension Int64: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> Int64? { decodeDecimal(text) }
}

extension Int32: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> Int32? { decodeDecimal(text) }
}

extension Double: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> Double? {
        Double(String(decoding: text, as: UTF8.self))
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> Bool? {
        guard text.count == 1 else { return nil }
        switch text[0] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }
}

extension Date: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> Date? {
        TimestampText.parse(text)
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> [UInt8]? {
        ByteaText.parse(text)
    }
}

extension Data: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> Data? {
        ByteaText.parse(text).map { Data($0) }
    }
}

extension TextArray: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer) -> TextArray? {
        ArrayText.parse(text).map(TextArray.init)
    }
}
