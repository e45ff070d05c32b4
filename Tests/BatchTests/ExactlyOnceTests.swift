import Batch
import Foundation
import Jobs
import Postgres
import Settings
import Testing

/// A message is stored once, in the order it was said, however the files were cut and whichever lines were bad:
/// the README's "Exactly once", through real files, job files and batches.
@Suite struct ExactlyOnceTests {
    /// A JSON Lines record of user "u", session "s", said `second` seconds after 2024-05-06 09:00 UTC.
    static func line(_ content: String, role: String = "user", second: Int, id: String? = nil) -> String {
        let time = String(format: "2024-05-06T09:%02d:%02dZ", second / 60, second % 60)
        return #"{"#
            + (id.map { #""id": "\#($0)", "# } ?? "")
            + #""user": "u", "session": "s", "role": "\#(role)", "content": "\#(content)", "created_at": "\#(time)"}"#
    }

    static func ingestJob(_ name: String, source: String) -> String {
        "name: \(name)\nkind: ingest\nsource: \(source)\non_bad_record: skip\nbatch_size: 2\n"
    }

    /// Runs `file` and returns the ingest jobs' (inserted, duplicates, bad records).
    static func run(_ fixture: BatchFixture, _ settings: WorkerSettings, _ files: [String]) async throws
        -> [(inserted: Int, duplicates: Int, bad: Int)]
    {
        let report = await fixture.runner(settings).run(try JobLoader.load(files: files))
        #expect(report.batch.status == .ok)
        return report.jobs.map { ($0.inserted ?? -1, $0.duplicates ?? -1, $0.badRecords) }
    }

    /// The stored messages' contents and the session's chunk text, both in conversation order.
    static func stored(_ fixture: BatchFixture, _ settings: WorkerSettings) async throws
        -> (messages: [String], chunks: String)
    {
        let connection = try await PostgresConnection.connect(settings.connection)
        defer { connection.close() }
        let messages = try await connection.query(
            "SELECT content FROM \(fixture.schema).messages ORDER BY order_key, content_hash"
        ).rows.map { try $0.decode(0, as: String.self) }
        let chunks = try await connection.query(
            "SELECT string_agg(content, ' | ' ORDER BY first_key, first_hash) FROM \(fixture.schema).chunks"
        ).rows[0].decode(0, as: String.self)
        return (messages, chunks)
    }

    /// The issue's first case: line 3 of 5 is bad (`created_at` 2024-13-45) and skipped; fixed and re-run, the store
    /// holds the five messages once each. (Version 2 stored 7 rows, the chunk repeating two messages.)
    @Test func fixingABadLineAndReRunningStoresEachMessageOnce() async throws {
        let fixture = try BatchFixture("fixed-line")
        let settings = try fixture.settings()
        defer { fixture.remove(settings) }
        let good = [
            Self.line("one", second: 1), Self.line("two", role: "assistant", second: 2), Self.line("three", second: 3),
            Self.line("four", second: 4), Self.line("five", role: "assistant", second: 5),
        ]
        var broken = good
        broken[2] = broken[2].replacingOccurrences(of: "2024-05-06T09:00:03Z", with: "2024-13-45T09:00:03Z")
        try fixture.write("data.jsonl", broken.joined(separator: "\n") + "\n")
        let job = try fixture.write("ingest.yaml", Self.ingestJob("ingest", source: "data.jsonl"))

        let first = try await Self.run(fixture, settings, [job])
        #expect(first.map(\.inserted) == [4] && first.map(\.bad) == [1])
        try fixture.write("data.jsonl", good.joined(separator: "\n") + "\n")
        let second = try await Self.run(fixture, settings, [job])
        #expect(second.map(\.inserted) == [1] && second.map(\.duplicates) == [4] && second.map(\.bad) == [0])

        let stored = try await Self.stored(fixture, settings)
        #expect(stored.messages == ["one", "two", "three", "four", "five"])
        #expect(stored.chunks == "one\ntwo\nthree\nfour\nfive")
    }

    /// The issue's second case: one session exported in two daily files, each numbered from line 1, both with an
    /// assistant "ok". Both are kept, and the chunk reads Monday before Tuesday, whichever file ran first.
    @Test(arguments: [false, true])
    func aSessionSplitOverTwoDailyFilesReadsInOrder(tuesdayFirst: Bool) async throws {
        let fixture = try BatchFixture("daily")
        let settings = try fixture.settings()
        defer { fixture.remove(settings) }
        try fixture.write(
            "day1.jsonl",
            [Self.line("hi", second: 1), Self.line("ok", role: "assistant", second: 2)]
                .joined(separator: "\n"))
        try fixture.write(
            "day2.jsonl",
            [Self.line("bye", second: 61), Self.line("ok", role: "assistant", second: 62)]
                .joined(separator: "\n"))
        let monday = try fixture.write("monday.yaml", Self.ingestJob("monday", source: "day1.jsonl"))
        let tuesday = try fixture.write("tuesday.yaml", Self.ingestJob("tuesday", source: "day2.jsonl"))

        for file in tuesdayFirst ? [tuesday, monday] : [monday, tuesday] {
            #expect(try await Self.run(fixture, settings, [file]).map(\.inserted) == [2])
        }
        // Cron runs both again the next day: nothing new.
        #expect(try await Self.run(fixture, settings, [monday, tuesday]).map(\.duplicates) == [2, 2])

        let stored = try await Self.stored(fixture, settings)
        #expect(stored.messages == ["hi", "ok", "bye", "ok"])
        #expect(stored.chunks == "hi\nok\nbye\nok")
    }

    /// Exports that overlap and carry ids, run one after another: a message re-exported (even edited, at another
    /// line) is the same message; one file holding everything gives the same store.
    @Test func overlappingExportsWithIdsStoreEachMessageOnce() async throws {
        let all = (1...6).map { Self.line("message \($0)", second: $0, id: "m\($0)") }
        var chunks: [String] = []
        for cut in [[0..<6], [0..<4, 2..<6], [3..<6, 0..<4, 1..<3]] {
            let fixture = try BatchFixture("ids")
            let settings = try fixture.settings()
            defer { fixture.remove(settings) }
            var files: [String] = []
            var exported = Set<Int>()
            for (index, range) in cut.enumerated() {
                // Re-exports edit what they repeat: the id still says it is the stored message.
                let lines = range.map { number in
                    exported.contains(number)
                        ? all[number].replacingOccurrences(of: "message", with: "edited") : all[number]
                }
                exported.formUnion(range)
                try fixture.write("part\(index).jsonl", lines.joined(separator: "\n"))
                files.append(
                    try fixture.write("part\(index).yaml", Self.ingestJob("part\(index)", source: "part\(index).jsonl"))
                )
            }
            var inserted = 0
            for file in files { inserted += try await Self.run(fixture, settings, [file]).map(\.inserted).reduce(0, +) }
            #expect(inserted == 6)
            let stored = try await Self.stored(fixture, settings)
            #expect(stored.messages.count == 6)
            chunks.append(stored.chunks)
        }
        #expect(chunks[0] == (1...6).map { "message \($0)" }.joined(separator: "\n"))
        #expect(chunks[1] == chunks[0])
        #expect(chunks[2] == chunks[0])
    }
}
