import Foundation
import Testing

@testable import Postgres

@Suite struct TextFormatTests {
    private func parse<Value: PostgresDecodable>(_ text: String, as type: Value.Type) -> Value? {
        Array(text.utf8).withUnsafeBytes { Value.decode(postgresText: $0) }
    }

    @Test func timestampsRoundTripThroughText() {
        for seconds in [0.0, 1_700_000_000.123456, -1.5, -62_135_596_800.0, 253_402_300_799.999999] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = TimestampText.format(date)
            let back = parse(text, as: Date.self)
            #expect(back.map { abs($0.timeIntervalSince1970 - seconds) < 0.000_001 } == true, "\(text)")
        }
    }

    @Test func timestampsAreWrittenInTheServersISOForm() {
        let expected: [(Double, String)] = [
            (0, "1970-01-01 00:00:00.000000+00"),
            (1_700_000_000.123456, "2023-11-14 22:13:20.123456+00"),
            (-1.5, "1969-12-31 23:59:58.500000+00"),
            (-62_167_219_200, "0001-01-01 00:00:00.000000+00 BC"),
            (253_402_300_800, "10000-01-01 00:00:00.000000+00"),
        ]
        for (seconds, text) in expected {
            #expect(TimestampText.format(Date(timeIntervalSince1970: seconds)) == text)
        }
    }

    @Test func timestampsHonourOffsetsAndForms() {
        #expect(parse("2024-05-01 12:30:00+02", as: Date.self)?.timeIntervalSince1970 == 1_714_559_400)
        #expect(parse("2024-05-01 12:30:00+05:30", as: Date.self)?.timeIntervalSince1970 == 1_714_546_800)
        #expect(parse("2024-05-01 10:30:00", as: Date.self)?.timeIntervalSince1970 == 1_714_559_400)
        #expect(parse("2024-05-01", as: Date.self)?.timeIntervalSince1970 == 1_714_521_600)
        #expect(parse("infinity", as: Date.self) == nil)
        #expect(parse("2024-13-01", as: Date.self) == nil)
    }

    @Test func integersRefuseOverflowAndJunk() {
        #expect(parse("9223372036854775807", as: Int.self) == .max)
        #expect(parse("-9223372036854775808", as: Int.self) == .min)
        #expect(parse("9223372036854775808", as: Int.self) == nil)
        #expect(parse("2147483648", as: Int32.self) == nil)
        #expect(parse("12a", as: Int.self) == nil)
        #expect(parse("", as: Int.self) == nil)
    }

    @Test func byteaReadsHexAndEscapeForms() {
        #expect(parse("\\x00ff10", as: [UInt8].self) == [0, 255, 16])
        #expect(parse("a\\000\\\\b", as: [UInt8].self) == [97, 0, 92, 98])
        #expect(parse("\\x0", as: [UInt8].self) == nil)
    }

    @Test func textArraysQuoteEverythingThatNeedsIt() {
        let elements: [String?] = ["plain", "with,comma", "with \"quote\"", "back\\slash", "", nil, "NULL", "{}"]
        let text = ArrayText.format(elements)
        #expect(parse(text, as: TextArray.self)?.elements == elements)
        #expect(ArrayText.format(["a", "b\"c\\", nil, "ü"]) == #"{"a","b\"c\\",NULL,"ü"}"#)
        #expect(ArrayText.format([]) == "{}")
        #expect(parse("{}", as: TextArray.self)?.elements == [])
        #expect(parse("{a,NULL,b}", as: TextArray.self)?.elements == ["a", nil, "b"])
    }
}
