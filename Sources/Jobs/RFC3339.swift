import CivilDate
import Foundation

/// RFC 3339 timestamps (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.250+02:00`).
///
/// Parsed by hand rather than with `ISO8601DateFormatter`: it runs once per record of large sources, must not
/// depend on locale or time zone settings, and has to say which part is wrong.
enum RFC3339 {
    /// What a timestamp should look like, for messages.
    static let example = "an RFC 3339 timestamp such as 2024-05-01T12:00:00Z or 2024-05-01T14:00:00.5+02:00"

    /// The instant `text` names, or what is wrong with it.
    static func parse(_ text: String) -> Result<Date, RFC3339Error> {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Result<Date, RFC3339Error> {
        var scanner = Scanner(bytes: bytes)
        guard let year = scanner.digits(4), scanner.skip("-"), let month = scanner.digits(2), scanner.skip("-"),
            let day = scanner.digits(2)
        else { return .failure(.shape) }
        guard scanner.skip("T") || scanner.skip("t") || scanner.skip(" ") else {
            return .failure(scanner.atEnd ? .missingTime : .shape)
        }
        guard let hour = scanner.digits(2), scanner.skip(":"), let minute = scanner.digits(2), scanner.skip(":"),
            let second = scanner.digits(2)
        else { return .failure(.shape) }
        var fraction = 0.0
        if scanner.skip(".") {
            var scale = 0.1
            var count = 0
            while let digit = scanner.digit() {
                fraction += Double(digit) * scale
                scale /= 10
                count += 1
            }
            guard count > 0 else { return .failure(.shape) }
        }
        var offsetSeconds = 0
        if scanner.skip("Z") || scanner.skip("z") {
            offsetSeconds = 0
        } else if let sign = scanner.sign() {
            guard let offsetHour = scanner.digits(2), scanner.skip(":"), let offsetMinute = scanner.digits(2) else {
                return .failure(.shape)
            }
            guard offsetHour <= 23, offsetMinute <= 59 else { return .failure(.outOfRange("time zone offset")) }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
        } else {
            return .failure(scanner.atEnd ? .missingOffset : .shape)
        }
        guard scanner.atEnd else { return .failure(.shape) }

        guard (1...12).contains(month) else { return .failure(.outOfRange("month \(month)")) }
        guard (1...daysIn(month: month, year: year)).contains(day) else {
            return .failure(.outOfRange("day \(day) of month \(month)"))
        }
        guard hour <= 23 else { return .failure(.outOfRange("hour \(hour)")) }
        guard minute <= 59 else { return .failure(.outOfRange("minute \(minute)")) }
        // 60 is a leap second, which RFC 3339 allows; it counts as the first second of the next minute.
        guard second <= 60 else { return .failure(.outOfRange("second \(second)")) }

        let days = Int(CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day)))
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return .success(Date(timeIntervalSince1970: Double(seconds) + fraction))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Reads ASCII digits and separators from the front of the text.
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
                return nil
            }
            defer { index += 1 }
            return Int(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func digits(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func sign() -> Int? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}

/// What is wrong with a timestamp, phrased to go in parentheses after it.
enum RFC3339Error: Error, Equatable, CustomStringConvertible {
    /// Not of the form `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    case shape
    /// A date without a time.
    case missingTime
    /// A local time without `Z` or an offset, which would be ambiguous.
    case missingOffset
    /// A field outside its range, such as month 13.
    case outOfRange(String)

    var description: String {
        switch self {
        case .shape: "not of the form YYYY-MM-DDTHH:MM:SS[.fraction] followed by Z or an offset such as +02:00"
        case .missingTime: "a date without a time"
        case .missingOffset: "no time zone: add Z for UTC or an offset such as +02:00"
        case .outOfRange(let what): "\(what) is out of range"
        }
    }
}
