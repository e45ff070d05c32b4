import Testing

@testable import SampleData

@Suite struct TextEscapingTests {
    static let text = "say \"hi\"\\\t\n\r\u{1}é"

    @Test func jsonEscapesQuotesBackslashesAndEveryControlCharacter() {
        var buffer: [UInt8] = []
        TextEscaping.appendJSONString(Self.text, to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == #""say \"hi\"\\\t\n\r\u0001é""#)
    }

    /// COPY's text format takes quotes and other control characters as they are.
    @Test func copyTextEscapesOnlyBackslashTabNewlineAndCarriageReturn() {
        var buffer: [UInt8] = []
        TextEscaping.appendCopyText(Self.text, to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "say \"hi\"\\\\\\t\\n\\r\u{1}é")
    }
}
