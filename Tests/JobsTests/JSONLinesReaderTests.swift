import Foundation
import Testing

@testable import Jobs

/// The line splitting under the readers: block boundaries, overlong lines, line numbers.
@Suite struct JSONLinesReaderTests {
    /// Every line the reader hands out, as (number, text) or (number, reason).
    func lines(_ bytes: [UInt8], maximumLineBytes: Int = JSONLinesReader.defaultMaximumLineBytes) throws -> [String] {
        let folder = try TempFolder()
        let path = try folder.write("lines.jsonl", bytes: bytes)
        var reader = JSONLinesReader(
            file: try OpenFile(url: URL(fileURLWithPath: path)), maximumLineBytes: maximumLineBytes)
        var found: [String] = []
        while let line = reader.next({ line -> String in
            switch line {
            case .text(let number, let bytes): "\(number): \(String(decoding: bytes, as: UTF8.self))"
            case .unreadable(let bad): "\(bad.line)! \(bad.reason)"
            }
        }) {
            found.append(line)
        }
        return found
    }

    @Test func linesAcrossBlockBoundaries() throws {
        // Lines of many lengths, so newlines fall on, just before and just after every block boundary.
        var text = ""
        var expected: [String] = []
        var length = 1
        var number = 0
        while text.utf8.count < 3 * JSONLinesReader.blockSize {
            number += 1
            let line = String(repeating: "x", count: length)
            text += line + "\n"
            expected.append("\(number): \(line)")
            length = length * 7 % 5003 + 1
        }
        #expect(try lines(Array(text.utf8)) == expected)
    }

    @Test func lineLongerThanTheLimitIsSkippedAndReported() throws {
        let long = String(repeating: "y", count: 250)
        let found = try lines(Array("short\n\(long)\nafter\n\(long)".utf8), maximumLineBytes: 100)
        #expect(found.count == 4)
        #expect(found[0] == "1: short")
        #expect(found[1].hasPrefix("2! line is longer than 100 bytes"))
        #expect(found[2] == "3: after")
        #expect(found[3].hasPrefix("4! line is longer than 100 bytes"))
    }

    @Test func overlongLineSpanningManyBlocks() throws {
        let long = String(repeating: "z", count: 5 * JSONLinesReader.blockSize)
        let found = try lines(Array("\(long)\nnext\n".utf8), maximumLineBytes: 1000)
        #expect(found.count == 2)
        #expect(
            found[0] == "1! line is longer than 1000 bytes (\(long.utf8.count) or more); expected one JSON object "
                + "per line, is this a JSON Lines file?")
        #expect(found[1] == "2: next")
    }

    @Test func carriageReturnOnlyAtTheEndIsRemoved() throws {
        #expect(try lines(Array("a\rb\r\n\r\nc\r".utf8)) == ["1: a\rb", "3: c"])
    }

    @Test func byteOrderMarkOnlyOnTheFirstLine() throws {
        let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
        let found = try lines(mark + Array("a\n".utf8) + mark + Array("b\n".utf8))
        #expect(found == ["1: a", "2: \u{FEFF}b"])
    }
}
