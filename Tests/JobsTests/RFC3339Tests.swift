import Foundation
import Testing

@testable import Jobs

@Suite struct RFC3339Tests {
    @Test(arguments: [
        ("2024-05-01T12:00:00Z", 1_714_564_800.0),
        ("2024-05-01t12:00:00z", 1_714_564_800.0),
        ("2024-05-01 12:00:00Z", 1_714_564_800.0),
        ("2024-05-01T14:00:00+02:00", 1_714_564_800.0),
        ("2024-05-01T06:30:00-05:30", 1_714_564_800.0),
        ("2024-05-01T12:00:00.5Z", 1_714_564_800.5),
        ("2024-05-01T12:00:00.123456Z", 1_714_564_800.123456),
        ("1970-01-01T00:00:00Z", 0.0),
        ("1969-12-31T23:59:59Z", -1.0),
        ("2000-02-29T00:00:00Z", 951_782_400.0),
        ("2016-12-31T23:59:60Z", 1_483_228_800.0),
    ])
    func validTimestamps(text: String, seconds: Double) throws {
        let parsed = try RFC3339.parse(text).get()
        #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.000_001)
    }

    @Test(arguments: [
        ("2024-05-01", RFC3339Error.missingTime),
        ("2024-05-01T12:00:00", .missingOffset),
        ("2024-05-01T12:00Z", .shape),
        ("2024-5-01T12:00:00Z", .shape),
        ("2024-05-01T12:00:00.Z", .shape),
        ("2024-05-01T12:00:00+0200", .shape),
        ("2024-05-01T12:00:00Z ", .shape),
        (" 2024-05-01T12:00:00Z", .shape),
        ("", .shape),
        ("2024-13-01T00:00:00Z", .outOfRange("month 13")),
        ("2024-00-01T00:00:00Z", .outOfRange("month 0")),
        ("2023-02-29T00:00:00Z", .outOfRange("day 29 of month 2")),
        ("2024-04-31T00:00:00Z", .outOfRange("day 31 of month 4")),
        ("2024-05-01T24:00:00Z", .outOfRange("hour 24")),
        ("2024-05-01T12:60:00Z", .outOfRange("minute 60")),
        ("2024-05-01T12:00:61Z", .outOfRange("second 61")),
        ("2024-05-01T12:00:00+24:00", .outOfRange("time zone offset")),
        ("2024-05-01T12:00:00٣Z", .shape),
    ])
    func invalidTimestamps(text: String, error: RFC3339Error) {
        #expect(throws: error) { try RFC3339.parse(text).get() }
    }
}
