import Foundation
import Testing

@testable import Jobs

@Suite struct MessageReaderTests {
    /// A JSON Lines record for a message.
    static func record(
        _ user: String = "alice", _ session: String = "s1", role: String = "user", content: String = "hi",
        extra: String = ""
    ) -> String {
        #"{"user": "\#(user)", "session": "\#(session)", "role": "\#(role)", "content": "\#(content)"\#(extra)}"#
    }

    func read(_ text: String, in folder: TempFolder) throws -> (path: String, results: [Result<Message, BadRecord>]) {
        try read(bytes: Array(text.utf8), in: folder)
    }

    func read(bytes: [UInt8], in folder: TempFolder) throws -> (path: String, results: [Result<Message, BadRecord>]) {
        let path = try folder.write("messages.jsonl", bytes: bytes)
        return (path, Array(try MessageReader(url: URL(fileURLWithPath: path))))
    }

    @Test func goodRecords() throws {
        let folder = try TempFolder()
        let (_, results) = try read(
            """
            {"user": "alice", "session": "s1", "role": "user", "content": "I live in Lisbon", "created_at": "2024-05-01T12:00:00Z"}
            {"user": "alice", "session": "s1", "role": "assistant", "content": "Noted.", "created_at": "2024-05-01T12:00:01.250Z"}
            {"content": "Other session", "role": "system", "session": "s2", "user": "alice", "created_at": null}
            {"user": "bob", "session": "s1", "role": "tool", "content": "", "id": 17, "metadata": {"x": [1]}}
            {"user": "bob", "session": "s1", "role": "user", "content": "again", "id": "m-0017"}
            {"user": "alice", "session": "s1", "role": "user", "content": "Ünïcödé ✓ \\n \\"quoted\\"", "created_at": "2024-05-01T14:00:02+02:00"}

            """, in: folder)
        #expect(
            results.map(\.value) == [
                Message(
                    user: "alice", session: "s1", position: 0, role: .user, content: "I live in Lisbon",
                    createdAt: date(1_714_564_800), line: 1),
                Message(
                    user: "alice", session: "s1", position: 1, role: .assistant, content: "Noted.",
                    createdAt: date(1_714_564_801.25), line: 2),
                Message(user: "alice", session: "s2", position: 2, role: .system, content: "Other session", line: 3),
                Message(user: "bob", session: "s1", position: 3, id: "17", role: .tool, content: "", line: 4),
                Message(user: "bob", session: "s1", position: 4, id: "m-0017", role: .user, content: "again", line: 5),
                Message(
                    user: "alice", session: "s1", position: 5, role: .user, content: "Ünïcödé ✓ \n \"quoted\"",
                    createdAt: date(1_714_564_802), line: 6),
            ])
    }

    /// A bad line and the reason it must give.
    struct BadLine: Sendable, CustomTestStringConvertible {
        var line: String
        var reason: String
        var testDescription: String { line }

        static let all: [BadLine] = [
            .init(
                line: #"{"user": "a", "session": "s""#,
                reason: "line is not valid JSON (Unexpected end of file during JSON parse.); expected one JSON object "
                    + "per line"),
            .init(line: "not json at all", reason: "line is not valid JSON"),
            .init(line: #"[1, 2]"#, reason: "line is an array, not an object; expected one JSON object per line"),
            .init(
                line: #""text""#, reason: "line is the string 'text', not an object; expected one JSON object per line"),
            .init(line: "42", reason: "line is the number 42, not an object"),
            .init(line: "null", reason: "line is null, not an object"),
            .init(
                line: #"{"session": "s", "role": "user", "content": "x"}"#,
                reason: "field 'user' is missing; expected a non-empty string"),
            .init(line: record("", "s"), reason: "field 'user' is empty; expected a non-empty string"),
            .init(line: record("a", "  "), reason: "field 'session' is blank ('  '); expected a non-empty string"),
            .init(
                line: #"{"user": 7, "session": "s", "role": "user", "content": "x"}"#,
                reason: "field 'user' is the number 7; expected a non-empty string"),
            .init(
                line: #"{"user": "a", "session": false, "role": "user", "content": "x"}"#,
                reason: "field 'session' is the boolean false; expected a non-empty string"),
            .init(
                line: #"{"user": "a", "session": "s", "role": "user", "content": ["x"]}"#,
                reason: "field 'content' is an array; expected a string"),
            .init(
                line: #"{"user": "a", "session": "s", "role": "user", "content": null}"#,
                reason: "field 'content' is null; expected a string"),
            .init(
                line: #"{"user": "a", "session": "s", "role": "user"}"#,
                reason: "field 'content' is missing; expected a string"),
            .init(
                line: #"{"user": "a", "session": "s", "content": "x"}"#,
                reason: "field 'role' is missing; expected one of user, assistant, system, tool"),
            .init(
                line: record(role: "bot"),
                reason: "field 'role' is 'bot'; expected one of user, assistant, system, tool"),
            .init(
                line: record(role: "asistant"),
                reason: "field 'role' is 'asistant'; expected one of user, assistant, system, tool; did you mean "
                    + "'assistant'?"),
            .init(line: record(role: "User"), reason: "did you mean 'user'?"),
            .init(
                line: record(extra: #", "created_at": "yesterday""#),
                reason: "field 'created_at' is 'yesterday' (not of the form YYYY-MM-DDTHH:MM:SS[.fraction] followed by "
                    + "Z or an offset such as +02:00); expected an RFC 3339 timestamp"),
            .init(
                line: record(extra: #", "created_at": "2024-02-30T00:00:00Z""#),
                reason: "field 'created_at' is '2024-02-30T00:00:00Z' (day 30 of month 2 is out of range)"),
            .init(
                line: record(extra: #", "created_at": 1714564800"#),
                reason: "field 'created_at' is the number 1714564800; expected an RFC 3339 timestamp"),
            .init(
                line: record(content: #"a\u0000b"#),
                reason: "field 'content' contains a NUL character (\\u0000), which PostgreSQL text cannot store"),
        ]
    }

    @Test(arguments: BadLine.all)
    func badRecordGivesItsLineAndReason(_ bad: BadLine) throws {
        let folder = try TempFolder()
        let (path, results) = try read(Self.record() + "\n\n" + bad.line + "\n" + Self.record() + "\n", in: folder)
        #expect(results.count == 3)
        #expect(results[0].value?.position == 0)
        let failure = try #require(results[1].failure)
        #expect(failure.file == path)
        #expect(failure.line == 3)
        #expect(failure.reason.contains(bad.reason), "\(failure.reason)")
        #expect(failure.description == "\(path):3: \(failure.reason)")
        // A position is the line's own index: the bad line and the blank one before it count, so fixing the bad
        // line later moves no other message.
        #expect(results[2].value?.position == 3)
        #expect(results[2].value?.line == 4)
    }

    @Test func invalidUTF8IsABadRecord() throws {
        let folder = try TempFolder()
        let good = Array((Self.record() + "\n").utf8)
        let bad =
            Array(#"{"user": "a", "session": "s", "role": "user", "content": ""#.utf8) + [0xC3, 0x28]
            + Array("\"}\n".utf8)
        let (_, results) = try read(bytes: good + bad + [0xFF, 0x0A] + good, in: folder)
        #expect(results.count == 4)
        #expect(
            results[1].failure?.reason
                == "line is not valid UTF-8 (byte 59 of the line is 0xC3); expected UTF-8 encoded JSON")
        #expect(results[1].failure?.line == 2)
        #expect(
            results[2].failure?.reason
                == "line is not valid UTF-8 (byte 1 of the line is 0xFF); expected UTF-8 encoded JSON")
        #expect(results[3].value?.position == 3)
        #expect(results[3].value?.line == 4)
    }

    @Test func crlfLineEndingsAndNoTrailingNewline() throws {
        let folder = try TempFolder()
        let (_, results) = try read(
            Self.record(content: "one") + "\r\n\r\n" + Self.record(content: "two") + "\r\n"
                + Self.record(content: "three"),
            in: folder)
        #expect(results.map(\.value?.content) == ["one", "two", "three"])
        #expect(results.map(\.value?.line) == [1, 3, 4])
        #expect(results.map(\.value?.position) == [0, 2, 3])
    }

    @Test func blankLinesAreSkippedButCounted() throws {
        let folder = try TempFolder()
        let (_, results) = try read("\n   \n\t\n" + Self.record() + "\n \r\n\n" + Self.record() + "\n\n\n", in: folder)
        #expect(results.map(\.value?.line) == [4, 7])
    }

    @Test func emptyFileHasNoRecords() throws {
        let folder = try TempFolder()
        #expect(try read("", in: folder).results.isEmpty)
        #expect(try read("\n\n", in: folder).results.isEmpty)
    }

    @Test func byteOrderMarkIsIgnored() throws {
        let folder = try TempFolder()
        let (_, results) = try read(bytes: [0xEF, 0xBB, 0xBF] + Array(Self.record().utf8), in: folder)
        #expect(results.first?.value?.user == "alice")
    }

    @Test func iteratingTwiceReadsTheSameRecords() throws {
        let folder = try TempFolder()
        let path = try folder.write("m.jsonl", Self.record() + "\n" + Self.record("bob") + "\nbad\n" + Self.record())
        let reader = try MessageReader(url: URL(fileURLWithPath: path))
        let first = Array(reader)
        let second = Array(reader)
        #expect(first == second)
        #expect(first.compactMap(\.value?.position) == [0, 1, 3])
    }

    /// `id` is a string or a whole number; anything else, or a blank one, is a bad record that says what is accepted.
    @Test(arguments: [
        (#", "id": 1.5"#, "field 'id' is the number 1.5; expected a non-empty string or a whole number"),
        (#", "id": -3"#, ""),
        (#", "id": true"#, "field 'id' is the boolean true; expected a non-empty string or a whole number"),
        (#", "id": " ""#, "field 'id' is blank (' '); expected a non-empty string"),
        (#", "id": {"a": 1}"#, "field 'id' is an object; expected"),
        (#", "id": 123456789012345678901"#, "expected a non-empty string or a whole number (a string for long ids)"),
    ])
    func idsAreStringsOrWholeNumbers(extra: String, reason: String) throws {
        let folder = try TempFolder()
        let (_, results) = try read(Self.record(extra: extra), in: folder)
        if reason.isEmpty {
            let digits = extra.drop { !$0.isNumber && $0 != "-" }
            #expect(results.first?.value?.id == String(digits))
        } else {
            let failure = try #require(results.first?.failure)
            #expect(failure.reason.contains(reason), "\(failure.reason)")
        }
    }

    @Test func veryLongRecordIsRead() throws {
        let folder = try TempFolder()
        let content = String(repeating: "long text ", count: 50_000)
        let (_, results) = try read(Self.record(content: content) + "\n" + Self.record(content: "after"), in: folder)
        #expect(results.map(\.value?.content) == [content, "after"])
    }

    @Test func sourcesThatCannotBeOpened() throws {
        let folder = try TempFolder()
        #expect {
            try MessageReader(url: folder.url.appendingPathComponent("missing.jsonl"))
        } throws: { error in
            "\(error)".hasSuffix("missing.jsonl: cannot open: No such file or directory")
        }
        #expect {
            try MessageReader(url: folder.url)
        } throws: { error in
            "\(error)" == "\(folder.url.path): is a directory, not a regular JSON Lines file"
        }
        let fifo = folder.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect {
            try MessageReader(url: URL(fileURLWithPath: fifo))
        } throws: { error in
            "\(error)" == "\(fifo): is a named pipe, not a regular JSON Lines file"
        }
    }

    /// 200,000 lines over many (user, session) pairs, with bad and blank lines mixed in, and CRLF endings. Each good
    /// record's content is the position it must get: its line's index, whatever the lines around it hold.
    @Test func twoHundredThousandLinesGetTheirLinesAsPositions() throws {
        let folder = try TempFolder()
        var text = ""
        text.reserveCapacity(20_000_000)
        var goodCount = 0
        var badLines: [Int] = []
        for line in 1...200_000 {
            if line % 1000 == 0 {
                text += "\n"
            } else if line % 997 == 0 {
                text += #"{"user": "u1", "session": "s1", "role": "nobody", "content": "x"}"# + "\n"
                badLines.append(line)
            } else {
                // A scrambled but deterministic walk over 37 users × 11 sessions.
                let user = "u\((line * 7919) % 37)"
                let session = "s\((line * 104_729) % 11)"
                let position = line - 1
                let terminator = line % 3 == 0 ? "\r\n" : "\n"
                text +=
                    #"{"user": "\#(user)", "session": "\#(session)", "role": "user", "content": "\#(position)"}"#
                    + terminator
                goodCount += 1
            }
        }
        let path = try folder.write("big.jsonl", text)
        text = ""
        var good = 0
        var bad: [Int] = []
        var wrongPositions = 0
        for result in try MessageReader(url: URL(fileURLWithPath: path)) {
            switch result {
            case .success(let message):
                good += 1
                if Int(message.content) != message.position { wrongPositions += 1 }
            case .failure(let record):
                bad.append(record.line)
            }
        }
        #expect(good == goodCount)
        #expect(bad == badLines)
        #expect(wrongPositions == 0)
    }
}
