import Foundation
import Jobs
import Testing

/// Mutated JSON Lines sources through `MessageReader` and `QueryReader`: every line is a record or a counted bad
/// record with its file, line and a reason; iteration ends; nothing crashes.
@Suite struct JSONLinesFuzzTests {
    static let cases = 4_000

    @Test func mutatedSources() async throws {
        let run = try FuzzRun(kind: "jsonl", cases: Self.cases)
        let url = run.folder.appendingPathComponent("source.jsonl")
        var counts: [String: Int] = [:]
        let elapsed = await run.forEachCase { index, mutations in
            let messages = mutations.random.chance(50)
            let bytes = Self.source(messages: messages, &mutations)
            if run.isRepro {
                print("fuzz jsonl case \(index): \(mutations.applied)\n\(FuzzRun.show(bytes, limit: 4_000))")
            }
            writeFile(atPath: url.path, contents: Data(bytes))
            mutations.tally(into: &counts)
            run.run(index, label: mutations.applied.joined(separator: ", ")) {
                let defaultUser = mutations.random.chance(50) ? "alice" : nil
                let tally = Self.read(
                    url, messages: messages, defaultUser: defaultUser, bytes: bytes, run: run, index: index)
                counts["records", default: 0] += tally.good
                counts["bad records", default: 0] += tally.bad
            }
        }
        print(run.summary(elapsed: elapsed, counts: counts))
    }

    /// A small valid source of messages or queries, then one to four mutations.
    static func source(messages: Bool, _ mutations: inout Mutations) -> [UInt8] {
        let count = mutations.random.int(1...6)
        var records = (0..<count).map { _ in
            messages
                ? Corpus.messageRecord(&mutations.random)
                : Corpus.queryRecord(&mutations.random, withUser: mutations.random.chance(70))
        }
        var extraLines: [Int: String] = [:]
        for _ in 0..<mutations.random.int(0...2) {
            mutations.mutateRecords(&records, extraLines: &extraLines)
        }
        var lines = Mutations.jsonLines(records, extraLines: extraLines).split(
            separator: "\n", omittingEmptySubsequences: false
        ).map(String.init)
        if mutations.random.chance(15) { mutations.mutateLines(&lines) }
        var bytes = Array(lines.joined(separator: "\n").utf8)
        for _ in 0..<mutations.random.int(0...2) {
            mutations.mutateBytes(&bytes)
        }
        return bytes
    }

    /// Reads `url` with the reader for its kind (sometimes the other one, which must cope just as well) and checks
    /// every element.
    static func read(
        _ url: URL, messages: Bool, defaultUser: String?, bytes: [UInt8], run: FuzzRun, index: Int
    ) -> (good: Int, bad: Int) {
        let facts = LineFacts(bytes)
        do {
            if messages {
                return check(
                    try MessageReader(url: url), line: \.line, path: url.path, facts: facts, run: run, index: index,
                    input: bytes)
            }
            return check(
                try QueryReader(url: url, defaultUser: defaultUser), line: \.line, path: url.path, facts: facts,
                run: run,
                index: index, input: bytes)
        } catch {
            run.report(index, "source not opened", "a regular file was refused: \(error)", input: bytes)
            return (0, 0)
        }
    }

    /// Checks each element a reader hands out: a record or a bad record on a real line, in order, with a clear
    /// reason; no more elements than non-blank lines; the iteration ends.
    static func check<Reader: Sequence, Item>(
        _ reader: Reader, line: (Item) -> Int, path: String, facts: LineFacts, run: FuzzRun, index: Int,
        input: [UInt8]
    ) -> (good: Int, bad: Int) where Reader.Element == Result<Item, BadRecord> {
        var good = 0
        var bad = 0
        var previousLine = 0
        var iterator = reader.makeIterator()
        while let element = iterator.next() {
            guard good + bad < facts.lineCount + 2 else {
                run.report(index, "iteration does not end", "more elements than the file has lines", input: input)
                break
            }
            let number: Int
            switch element {
            case .success(let item):
                good += 1
                number = line(item)
            case .failure(let record):
                bad += 1
                number = record.line
                if record.file != path {
                    run.report(
                        index, "bad record names another file", "'\(record.file)' instead of '\(path)'", input: input)
                }
                if let (rule, detail) = MessageRules.problem(record.reason) {
                    run.report(index, "bad record: \(rule)", "\(detail): \(record.reason.prefix(300))", input: input)
                }
            }
            if number < 1 || number > facts.lineCount {
                run.report(
                    index, "line out of range", "line \(number) of a file with \(facts.lineCount) lines", input: input)
            }
            if number <= previousLine {
                run.report(index, "lines out of order", "line \(number) after line \(previousLine)", input: input)
            }
            previousLine = number
        }
        if good + bad > facts.nonBlankLines {
            run.report(
                index, "more elements than lines",
                "\(good) records + \(bad) bad records from \(facts.nonBlankLines) non-blank lines", input: input)
        }
        return (good, bad)
    }
}
