import Foundation
import Testing

@testable import SampleData

@Suite struct DeterminismTests {
    @Test func sameSeedGivesIdenticalBytes() throws {
        let first = try JSONLines.generate(seed: 42, users: 5, sessions: 4, total: 500)
        let second = try JSONLines.generate(seed: 42, users: 5, sessions: 4, total: 500)
        #expect(first == second)
        #expect(!first.isEmpty)
    }

    @Test func differentSeedsDiffer() throws {
        let first = try JSONLines.generate(seed: 1, users: 5, sessions: 4, total: 500)
        let second = try JSONLines.generate(seed: 2, users: 5, sessions: 4, total: 500)
        #expect(first != second)
    }

    @Test func fileAndHandleOutputsMatch() throws {
        let generator = try ConversationGenerator(seed: 9, users: 3, sessionsPerUser: 2, totalMessages: 120)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sample-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let lines = try generator.writeJSONLines(to: url)
        #expect(lines == 120)
        #expect(try Data(contentsOf: url) == JSONLines.generate(seed: 9, users: 3, sessions: 2, total: 120))
    }

    @Test func iteratingTwiceGivesTheSameMessages() throws {
        let messages = try ConversationGenerator(seed: 3, users: 4, sessionsPerUser: 3, messagesPerSession: 0...12)
            .messages()
        #expect(Array(messages) == Array(messages))
    }

    /// Pins the generator's output: a change here changes every benchmark's input and every fixture, so it must be
    /// deliberate. Update the checksum (FNV-1a of the bytes) only together with a note in the change.
    @Test func outputIsPinned() throws {
        let data = try JSONLines.generate(seed: 1, users: 2, sessions: 2, total: 10)
        let checksum = data.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
        #expect(data.count == 2357)
        #expect(checksum == 0x11C4_72C6_3E59_861A)
        let first = try #require(JSONLines.objects(data).first)
        #expect(first["user"] as? String == "user-0001")
        #expect(first["session"] as? String == "user-0001-session-0001")
        #expect(first["created_at"] as? String == "2024-01-30T15:08:02Z")
    }

    @Test func splitMixMatchesReferenceOutput() {
        // Reference values of SplitMix64 seeded with 0, as published with the algorithm.
        var random = SplitMix64(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(random.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func boundedValuesStayInRange() {
        var random = SplitMix64(seed: 5)
        for bound in [1, 2, 3, 7, 100, 1 << 40] {
            for _ in 0..<200 { #expect((0..<bound).contains(random.next(below: bound))) }
        }
        #expect(random.next(below: 0) == 0)
    }
}

/// Generates into memory through a pipe, as a caller writing to stdout would.
enum JSONLines {
    static func generate(seed: UInt64, users: Int, sessions: Int, total: Int) throws -> Data {
        let generator = try ConversationGenerator(
            seed: seed, users: users, sessionsPerUser: sessions, totalMessages: total)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lines-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        try generator.writeJSONLines(to: handle)
        try handle.close()
        return try Data(contentsOf: url)
    }

    /// Each line decoded as a JSON object.
    static func objects(_ data: Data) throws -> [[String: Any]] {
        try data.split(separator: UInt8(ascii: "\n")).map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        }
    }
}
