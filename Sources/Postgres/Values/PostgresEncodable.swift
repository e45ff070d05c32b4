import Foundation

/// A statement parameter as it goes to libpq: text, or raw bytes for `bytea`.
///
/// Text goes with type OID 0, so the server reads it as the statement's context needs, exactly like a quoted literal:
/// `pg_terminate_backend($1)` gets an `int`, `$1::int8` an `int8`, a `jsonb` column `jsonb`. Only raw bytes, which
/// the server cannot infer from, are declared (`bytea`).
public struct PostgresParameter: Sendable, Equatable {
    enum Payload: Sendable, Equatable {
        case text(String)
        case bytes([UInt8])
    }

    var payload: Payload

    static func text(_ text: String) -> PostgresParameter { PostgresParameter(payload: .text(text)) }

    var typeOID: UInt32 {
        switch payload {
        case .text: 0
        case .bytes: 17  // bytea
        }
    }

    /// The value in PostgreSQL's text form, as a COPY text row or a `text[]` element carries it.
    public var textForm: String {
        switch payload {
        case .text(let text): text
        case .bytes(let bytes): ByteaText.hex(bytes)
        }
    }
}

/// A Swift value that can be bound to a `$n` parameter.
///
/// Values are always bound, never spliced into SQL text, so no quoting rule can be got wrong.
public protocol PostgresEncodable: Sendable {
    var postgresParameter: PostgresParameter { get }
}

extension String: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .text(self) }
}

extension Substring: PostgresEncodable {
    public var postgresParameter: PostgresParameter { String(self).postgresParameter }
}

extension Int: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .text(String(self)) }
}

extension Int64: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .text(String(self)) }
}

extension Int32: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .text(String(self)) }
}

extension Double: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        let text: String
        if isNaN {
            text = "NaN"
        } else if isInfinite {
            text = self < 0 ? "-Infinity" : "Infinity"
        } else {
            text = String(self)
        }
        return .text(text)
    }
}

extension Bool: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .text(self ? "t" : "f") }
}

extension Date: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        .text(TimestampText.format(self))
    }
}

extension Array: PostgresEncodable where Element == UInt8 {
    public var postgresParameter: PostgresParameter { .init(payload: .bytes(self)) }
}

extension Data: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(payload: .bytes(Array(self))) }
}

/// A `text[]` parameter. (A wrapper, because `[UInt8]` already means `bytea`.)
public struct TextArray: PostgresEncodable, Equatable {
    public var elements: [String?]

    public init(_ elements: [String?]) { self.elements = elements }

    public var postgresParameter: PostgresParameter {
        .text(ArrayText.format(elements))
    }
}
