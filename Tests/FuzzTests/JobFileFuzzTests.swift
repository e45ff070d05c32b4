import Foundation
import Jobs
import Testing

/// Mutated job files (and the JSON Lines sources they name) through `JobLoader`: success, or a
/// `JobValidationError` whose every problem is one clear `path:line: message` line; nothing crashes.
@Suite struct JobFileFuzzTests {
    static let cases = 3_500

    /// The corpus itself must load, or the fuzzer would only ever see files that are wrong before it starts.
    @Test func corpusLoads() throws {
        let run = try FuzzRun(kind: "jobs-corpus", cases: 0)
        try Self.prepare(run.folder)
        for (number, text) in Corpus.jobFiles.enumerated() {
            let path = run.folder.appendingPathComponent("job\(number).yaml").path
            writeFile(atPath: path, contents: Data(text.utf8))
            #expect(throws: Never.self, "template \(number)") { _ = try JobLoader.load(files: [path]) }
        }
    }

    @Test func mutatedJobFiles() async throws {
        let run = try FuzzRun(kind: "jobs", cases: Self.cases)
        try Self.prepare(run.folder)
        let path = run.folder.appendingPathComponent("jobs.yaml").path
        var counts: [String: Int] = [:]
        var dirtySources: Set<String> = []
        let elapsed = await run.forEachCase { index, mutations in
            let bytes = Self.jobFile(&mutations)
            writeFile(atPath: path, contents: Data(bytes))
            // Sometimes the sources are damaged too, so jobs that load stream bad records. Good sources are only
            // rewritten after a case that damaged them.
            for name in ["messages", "queries"] {
                let messages = name == "messages"
                let damaged = mutations.random.chance(30)
                guard damaged || dirtySources.contains(name) else { continue }
                let source =
                    damaged
                    ? JSONLinesFuzzTests.source(messages: messages, &mutations)
                    : Array(Self.goodSource(messages: messages).utf8)
                writeFile(atPath: run.folder.appendingPathComponent("data/\(name).jsonl").path, contents: Data(source))
                if damaged { dirtySources.insert(name) } else { dirtySources.remove(name) }
            }
            if run.isRepro {
                print("fuzz jobs case \(index): \(mutations.applied)\n\(FuzzRun.show(bytes, limit: 4_000))")
            }
            mutations.tally(into: &counts)
            let twice = mutations.random.chance(5)
            run.run(index, label: mutations.applied.joined(separator: ", ")) {
                do throws(JobValidationError) {
                    let jobs = try JobLoader.load(files: twice ? [path, path] : [path])
                    if twice { run.report(index, "same file twice accepted", "no problem reported", input: bytes) }
                    counts["loaded", default: 0] += 1
                    Self.stream(jobs, run: run, index: index, counts: &counts)
                } catch {
                    counts["rejected", default: 0] += 1
                    counts["problems", default: 0] += error.problems.count
                    Self.check(
                        error.problems, path: path, facts: LineFacts(bytes, yaml: true), run: run, index: index,
                        input: bytes)
                }
            }
        }
        print(run.summary(elapsed: elapsed, counts: counts))
    }

    static func prepare(_ folder: URL) throws {
        for name in ["data", "out"] {
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        for messages in [true, false] {
            writeFile(
                atPath: folder.appendingPathComponent(messages ? "data/messages.jsonl" : "data/queries.jsonl").path,
                contents: Data(goodSource(messages: messages).utf8))
        }
    }

    static func goodSource(messages: Bool) -> String {
        messages
            ? #"{"user": "alice", "session": "s1", "role": "user", "content": "I live in Lisbon"}"# + "\n"
            : #"{"query": "sourdough starter"}"# + "\n"
    }

    /// A job file from the corpus with one to three mutations, structural or byte-level.
    static func jobFile(_ mutations: inout Mutations) -> [UInt8] {
        mutations.mutatedYAMLFile(mutations.random.pick(Corpus.jobFiles))
    }

    /// Every problem is `path:line: message` with the line inside the file (or just after its end, where a
    /// truncated document's error is found), on one line, with a readable message.
    static func check(_ problems: [String], path: String, facts: LineFacts, run: FuzzRun, index: Int, input: [UInt8]) {
        if problems.isEmpty {
            run.report(index, "error without problems", "JobValidationError with no problems", input: input)
        }
        for problem in problems {
            guard problem.hasPrefix(path + ":") else {
                run.report(
                    index, "problem without file", "does not start with '\(path):': \(problem.prefix(300))",
                    input: input)
                continue
            }
            let rest = problem.dropFirst(path.count + 1)
            let digits = rest.prefix(while: \.isASCII).prefix(while: \.isNumber)
            if let line = Int(digits) {
                if line < 1 || line > facts.lineCount + 1 {
                    run.report(
                        index, "problem line out of range",
                        "line \(line) of \(facts.lineCount): \(problem.prefix(300))", input: input)
                }
                if !rest.dropFirst(digits.count).hasPrefix(": ") {
                    run.report(index, "problem not path:line: message", String(problem.prefix(300)), input: input)
                }
            } else if !rest.hasPrefix(" ") {
                run.report(index, "problem not path:line: message", String(problem.prefix(300)), input: input)
            }
            if let (rule, detail) = MessageRules.problem(problem) {
                run.report(index, "problem: \(rule)", "\(detail): \(problem.prefix(300))", input: input)
            }
        }
    }

    /// Streams the file sources of jobs that loaded, with the same checks as the JSON Lines fuzz test.
    static func stream(_ jobs: [Job], run: FuzzRun, index: Int, counts: inout [String: Int]) {
        for job in jobs {
            let url: URL
            let messages: Bool
            var defaultUser: String?
            switch job.kind {
            case .ingest(let spec):
                guard case .file(let file) = spec.source else { continue }
                (url, messages) = (file, true)
            case .query(let spec):
                guard case .file(let file) = spec.source else { continue }
                (url, messages, defaultUser) = (file, false, spec.user)
            }
            let bytes = (FileManager.default.contents(atPath: url.path)).map { [UInt8]($0) } ?? []
            let tally = JSONLinesFuzzTests.read(
                url, messages: messages, defaultUser: defaultUser, bytes: bytes, run: run, index: index)
            counts["source records", default: 0] += tally.good
            counts["source bad records", default: 0] += tally.bad
        }
    }
}
