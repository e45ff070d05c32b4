import Foundation
import Testing

@testable import Jobs

@Suite struct JSONRecordTests {
    func parse(_ line: String) -> Result<JSONRecord, RuleViolation> {
        Array(line.utf8).withUnsafeBytes { JSONRecord.parse($0) }
    }

    /// Flat objects of strings and nulls, which JSONRecord reads without JSONSerialization.
    static let flatObjects = [
        #"{"a": "plain", "b": null}"#,
        #"  {"a":"x\"y\\z\/w\b\f\n\r\t"}  "#,
        #"{"a": "\u00e9\u0000 \ud83d\ude00 \u20AC", "b": "ü ✓ 😀"}"#,
        "{}",
        "\t{ \"a\" : \"\" ,\r\n \"k\\u0065y\" : \"v\" }",
    ]

    @Test(arguments: flatObjects)
    func flatObjectsReadAsJSONSerializationReadsThem(_ line: String) throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let record = try parse(line).get()
        for key in Array(object.keys) + ["missing"] {
            #expect(try record.optionalString(key, expected: "").get() == object[key] as? String, "key \(key)")
        }
    }

    /// Lines with other values, repeated keys or bad syntax are JSONSerialization's to read or reject.
    @Test func otherLinesAreJudgedByJSONSerialization() throws {
        let record = try parse(#"{"a": "x", "n": 7, "t": true, "o": {"b": "c"}, "l": ["d"]}"#).get()
        #expect(try record.string("a", expected: "text").get() == "x")
        for (key, type) in [("n", "the number 7"), ("t", "the boolean true"), ("o", "an object"), ("l", "an array")] {
            #expect(throws: RuleViolation.self) { try record.string(key, expected: "text").get() }
            if case .failure(let violation) = record.optionalString(key, expected: "text") {
                #expect(violation.text == "field '\(key)' is \(type); expected text")
            }
        }
        for line in [#"{"a": "b"} x"#, "{\"a\": \"tab\there\"}", #"{"a": "\x"}"#, #"{"a" "b"}"#] {
            guard case .failure(let violation) = parse(line) else {
                Issue.record("\(line) was accepted")
                continue
            }
            #expect(violation.text.hasPrefix("is not valid JSON"), "\(line): \(violation.text)")
        }
        let repeated = #"{"a": "1", "a": "2"}"#
        let object = try JSONSerialization.jsonObject(with: Data(repeated.utf8)) as? [String: Any]
        #expect(try parse(repeated).get().optionalString("a", expected: "").get() == object?["a"] as? String)
    }

    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 40])
    func theFirstInvalidByteIsFoundWherever(_ offset: Int) {
        let ascii = Array(repeating: UInt8(ascii: "a"), count: offset)
        let valid = ascii + Array("é✓".utf8) + ascii
        #expect(valid.withUnsafeBytes { JSONRecord.invalidUTF8Offset($0) } == nil)
        let invalid = ascii + [0xC3, 0x28] + ascii
        #expect(invalid.withUnsafeBytes { JSONRecord.invalidUTF8Offset($0) } == offset)
    }
}
