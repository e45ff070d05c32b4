import CivilDate
import Foundation

/// PostgreSQL's `bytea` text forms: `\x` hex (the default output) and the older escape format.
enum ByteaText {
    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        output.reserveCapacity(2 + bytes.count * 2)
        output.append(UInt8(ascii: "\\"))
        output.append(UInt8(ascii: "x"))
        appendHex(bytes, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Two lower-case hex digits per byte, without the `\x` prefix.
    static func appendHex(_ bytes: [UInt8], to output: inout [UInt8]) {
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
    }

    static func parse(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        if text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") {
            guard text.count % 2 == 0 else { return nil }
            var bytes = [UInt8]()
            bytes.reserveCapacity((text.count - 2) / 2)
            var index = 2
            while index < text.count {
                guard let high = hexValue(text[index]), let low = hexValue(text[index + 1]) else { return nil }
                bytes.append(high << 4 | low)
                index += 2
            }
            return bytes
        }
        return parseEscaped(text)
    }

    private static func parseEscaped(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        var bytes = [UInt8]()
        var index = 0
        while index < text.count {
            let byte = text[index]
            guard byte == UInt8(ascii: "\\") else {
                bytes.append(byte)
                index += 1
                continue
            }
            if index + 1 < text.count, text[index + 1] == UInt8(ascii: "\\") {
                bytes.append(byte)
                index += 2
                continue
            }
            guard index + 3 < text.count else { return nil }
            var value: UInt8 = 0
            for offset in 1...3 {
                let digit = text[index + offset]
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { return nil }
                value = value &* 8 &+ (digit - UInt8(ascii: "0"))
            }
            bytes.append(value)
            index += 4
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Date {
    /// Microseconds since 1970-01-01 UTC, as the server stores this date when it is sent as a parameter or a COPY
    /// field: what a `timestamptz` holds, so a key computed from it agrees with the stored column to the microsecond.
    public var postgresMicroseconds: Int64 {
        Int64((timeIntervalSince1970 * 1_000_000).rounded())
    }
}

/// Timestamps in PostgreSQL's ISO text form (`DateStyle` ISO, which every connection of this library uses):
/// `2024-05-01 12:30:00.123456+02`, `2024-05-01 12:30:00` (no zone: taken as UTC) and `2024-05-01`.
enum TimestampText {
    static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the text of ``format(_:)``, byte by byte: ingest writes one per message into its COPY stream.
    static func append(_ date: Date, to bytes: inout [UInt8]) {
        let micros = date.postgresMicroseconds
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = CivilDate.date(days: days)
        func fixed(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        // At least four digits; years past 9999 take as many as they need.
        let shownYear = year > 0 ? year : 1 - year
        if shownYear < 10_000 { fixed(shownYear, 4) } else { bytes.append(contentsOf: String(shownYear).utf8) }
        bytes.append(UInt8(ascii: "-"))
        fixed(month, 2)
        bytes.append(UInt8(ascii: "-"))
        fixed(day, 2)
        bytes.append(UInt8(ascii: " "))
        fixed(secondOfDay / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        fixed(secondOfDay / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        fixed(secondOfDay % 60, 2)
        bytes.append(UInt8(ascii: "."))
        fixed(fraction, 6)
        bytes.append(contentsOf: "+00".utf8)
        if year <= 0 { bytes.append(contentsOf: " BC".utf8) }
    }

    static func parse(_ text: UnsafeRawBufferPointer) -> Date? {
        var scanner = ByteScanner(bytes: text)
        guard let year = scanner.number(minDigits: 4), scanner.take("-"),
            let month = scanner.number(digits: 2), scanner.take("-"),
            let day = scanner.number(digits: 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = CivilDate.days(year: year, month: month, day: day) * 86_400
        var micros: Int64 = 0
        if scanner.take(" ") || scanner.take("T") {
            guard let hour = scanner.number(digits: 2), scanner.take(":"),
                let minute = scanner.number(digits: 2), scanner.take(":"),
                let second = scanner.number(digits: 2), hour <= 24, minute < 60, second < 61
            else { return nil }
            seconds += hour * 3600 + minute * 60 + second
            if scanner.take(".") {
                var scale: Int64 = 100_000
                var digits = 0
                while let digit = scanner.digit() {
                    micros += Int64(digit) * scale
                    scale /= 10
                    digits += 1
                }
                guard digits > 0 else { return nil }
            }
            if let sign = scanner.sign() {
                guard let hours = scanner.number(digits: 2) else { return nil }
                var offset = hours * 3600
                if scanner.take(":") {
                    guard let minutes = scanner.number(digits: 2) else { return nil }
                    offset += minutes * 60
                    if scanner.take(":") {
                        guard let offsetSeconds = scanner.number(digits: 2) else { return nil }
                        offset += offsetSeconds
                    }
                }
                seconds -= sign * offset
            }
        }
        if scanner.take(" BC") {
            // Year 1 BC is year 0 of the proleptic calendar.
            seconds =
                (CivilDate.days(year: 1 - year, month: month, day: day) * 86_400)
                + (seconds - CivilDate.days(year: year, month: month, day: day) * 86_400)
        }
        guard scanner.atEnd else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}

/// One-dimensional array literals: `{a,"b c",NULL}`.
enum ArrayText {
    /// Every element is quoted, so only `"` and `\\` need escaping. Ingest sends its batches as such literals (a
    /// few hundred kilobytes per statement), so the text is written as UTF-8 bytes straight into the string's
    /// storage, sized for the worst case (every byte escaped) up front, rather than appended a character at a time.
    static func format(_ elements: [String?]) -> String {
        var capacity = 2
        for element in elements { capacity += 1 + (element.map { 2 + 2 * $0.utf8.count } ?? 4) }
        return String(unsafeUninitializedCapacity: capacity) { buffer in
            var count = 0
            func put(_ byte: UInt8) {
                buffer[count] = byte
                count += 1
            }
            put(UInt8(ascii: "{"))
            for (index, element) in elements.enumerated() {
                if index > 0 { put(UInt8(ascii: ",")) }
                guard let element else {
                    for byte in "NULL".utf8 { put(byte) }
                    continue
                }
                put(UInt8(ascii: "\""))
                // Native strings are contiguous, and copied whole when they hold nothing to escape (the usual case).
                let copied = element.utf8.withContiguousStorageIfAvailable { bytes in
                    guard !bytes.contains(where: needsEscape) else { return false }
                    count = buffer[count...].initialize(fromContentsOf: bytes)
                    return true
                }
                if copied != true {
                    for byte in element.utf8 {
                        if needsEscape(byte) { put(UInt8(ascii: "\\")) }
                        put(byte)
                    }
                }
                put(UInt8(ascii: "\""))
            }
            put(UInt8(ascii: "}"))
            return count
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"")
    }

    static func parse(_ text: UnsafeRawBufferPointer) -> [String?]? {
        guard text.count >= 2, text.first == UInt8(ascii: "{"), text.last == UInt8(ascii: "}") else { return nil }
        if text.count == 2 { return [] }
        var elements: [String?] = []
        var index = 1
        let end = text.count - 1
        while index < end {
            var bytes: [UInt8] = []
            var quoted = false
            if text[index] == UInt8(ascii: "\"") {
                quoted = true
                index += 1
                while index < end, text[index] != UInt8(ascii: "\"") {
                    if text[index] == UInt8(ascii: "\\") { index += 1 }
                    guard index < end else { return nil }
                    bytes.append(text[index])
                    index += 1
                }
                guard index < end else { return nil }
                index += 1
            } else {
                while index < end, text[index] != UInt8(ascii: ",") {
                    // Nested arrays are not supported: only one dimension is read.
                    guard text[index] != UInt8(ascii: "{") else { return nil }
                    bytes.append(text[index])
                    index += 1
                }
            }
            let isNull = !quoted && bytes.count == 4 && String(decoding: bytes, as: UTF8.self).uppercased() == "NULL"
            elements.append(isNull ? nil : String(decoding: bytes, as: UTF8.self))
            if index < end {
                guard text[index] == UInt8(ascii: ",") else { return nil }
                index += 1
                if index == end { return nil }
            }
        }
        return elements
    }
}

/// Reads ASCII numbers and punctuation from a byte buffer.
struct ByteScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    var atEnd: Bool { index == bytes.count }

    mutating func digit() -> Int? {
        guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else {
            return nil
        }
        defer { index += 1 }
        return Int(bytes[index] - UInt8(ascii: "0"))
    }

    mutating func number(digits: Int) -> Int64? {
        number(minDigits: digits, maxDigits: digits)
    }

    mutating func number(minDigits: Int, maxDigits: Int = 9) -> Int64? {
        let start = index
        var value: Int64 = 0
        while index - start < maxDigits, let digit = digit() {
            value = value * 10 + Int64(digit)
        }
        guard index - start >= minDigits else {
            index = start
            return nil
        }
        return value
    }

    mutating func take(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            return false
        }
        index += count
        return true
    }

    mutating func sign() -> Int64? {
        if take("+") { return 1 }
        if take("-") { return -1 }
        return nil
    }
}
