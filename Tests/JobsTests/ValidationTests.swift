import Foundation
import Testing

@testable import Jobs

/// Each kind of problem in a single job file: where it is reported and what the message says.
@Suite struct ValidationTests {
    @Test func unknownFieldSuggestsTheClosestKnownOne() throws {
        let folder = try TempFolder()
        try folder.write("alice.jsonl", "")
        let problem = try singleProblem(
            """
            jobs:
              - name: ingest-alice
                kind: ingest
                source: alice.jsonl
                # the next line has a typo
                #
                batchsize: 100
            """, in: folder)
        #expect(
            problem == "\(folder.path("jobs.yaml")):7: unknown field 'batchsize' in job 'ingest-alice'; did you mean "
                + "'batch_size'?")
    }

    @Test func unknownFieldWithoutNearMissListsTheKnownFields() throws {
        let folder = try TempFolder()
        let problem = try singleProblem(
            "name: q\nkind: query\nuser: u\nqueries: [x]\ncolour: blue\n", in: folder)
        #expect(
            problem.hasSuffix(
                ":5: unknown field 'colour' in job 'q'; the known fields are name, kind, concurrency, "
                    + "depends_on, user, queries, source, top_k, budget_chars, output, on_bad_record"))
    }

    @Test func fieldOfTheOtherKindSaysSo() throws {
        let folder = try TempFolder()
        let problem = try singleProblem(
            "name: q\nkind: query\nuser: u\nqueries: [x]\nbatch_size: 5\n", in: folder)
        #expect(
            problem.hasSuffix(
                ":5: field 'batch_size' in job 'q' is for ingest jobs, not query jobs; remove it or "
                    + "change 'kind'"))
    }

    @Test func missingNameAndKind() throws {
        let folder = try TempFolder()
        let file = try folder.write("jobs.yaml", "jobs:\n  - kind: query\n    user: u\n    queries: [x]\n  - name: b\n")
        #expect(
            problems([file]) == [
                "\(file):2: missing field 'name' in the job at line 2; expected a job name, unique in the batch, such "
                    + "as 'ingest-alice'",
                "\(file):5: missing field 'kind' in job 'b'; expected one of ingest, query",
            ])
    }

    @Test func misspeltKindSuggestsTheRightOne() throws {
        let folder = try TempFolder()
        let problem = try singleProblem("name: a\nkind: ingset\nsource: x.jsonl\n", in: folder)
        #expect(
            problem.hasSuffix(
                ":2: field 'kind' in job 'a' is 'ingset'; expected one of ingest, query; did you mean "
                    + "'ingest'?"))
    }

    /// A value of the wrong type or out of range, and the phrase the message must contain.
    struct WrongValue: Sendable, CustomTestStringConvertible {
        var field: String
        var yaml: String
        var message: String
        var testDescription: String { "\(field): \(yaml)" }

        static let all: [WrongValue] = [
            .init(
                field: "name", yaml: "[a, b]",
                message: "field 'name' in the job at line 1 is a list; expected a job name"),
            .init(field: "name", yaml: "' '", message: "field 'name' in the job at line 1 is blank (' ')"),
            .init(
                field: "concurrency", yaml: "0",
                message: "field 'concurrency' in job 'j' is 0; expected a whole number of 1 or more"),
            .init(
                field: "concurrency", yaml: "two",
                message: "field 'concurrency' in job 'j' is 'two'; expected a whole number"),
            .init(
                field: "concurrency", yaml: "1.5",
                message: "field 'concurrency' in job 'j' is '1.5'; expected a whole number"),
            .init(
                field: "concurrency", yaml: "'4'",
                message: "field 'concurrency' in job 'j' is the quoted string '4'; expected a whole number of 1 or "
                    + "more (leave it out for the default), written without quotes"),
            .init(
                field: "depends_on", yaml: "{a: 1}",
                message: "field 'depends_on' in job 'j' is a mapping; expected a job name or a list of job names"),
            .init(
                field: "depends_on", yaml: "[[a]]",
                message: "an entry of 'depends_on' in job 'j' is a list; expected a job name"),
            .init(
                field: "batch_size", yaml: "0",
                message: "field 'batch_size' in job 'j' is 0; expected a whole number from 1 to 100000 (default 500)"),
            .init(
                field: "batch_size", yaml: "100001",
                message: "field 'batch_size' in job 'j' is 100001; expected a whole number from 1 to 100000"),
            .init(
                field: "chunk", yaml: "2000",
                message: "field 'chunk' in job 'j' is '2000'; expected a mapping such as chunk: {max_chars: 2000}"),
            .init(
                field: "chunk", yaml: "{max_chars: 49}",
                message: "field 'max_chars' in 'chunk' of job 'j' is 49; expected a whole number from 50 to 100000 "
                    + "(default 2000)"),
            .init(
                field: "chunk", yaml: "{max_chars: 100001}",
                message: "field 'max_chars' in 'chunk' of job 'j' is 100001"),
            .init(
                field: "chunk", yaml: "{maxchars: 100}",
                message: "unknown field 'maxchars' in 'chunk' of job 'j'; did you mean 'max_chars'?"),
            .init(
                field: "on_bad_record", yaml: "ignore",
                message: "field 'on_bad_record' in job 'j' is 'ignore'; expected one of fail, skip"),
            .init(field: "on_bad_record", yaml: "skipp", message: "expected one of fail, skip; did you mean 'skip'?"),
        ]
    }

    @Test(arguments: WrongValue.all)
    func wrongValueInAnIngestJob(_ wrong: WrongValue) throws {
        let folder = try TempFolder()
        try folder.write("a.jsonl", "")
        let fields = ["name": "j", "kind": "ingest", "source": "a.jsonl"].merging([wrong.field: wrong.yaml]) { $1 }
        let yaml = ["name", "kind", "source", wrong.field].reduce(into: [String]()) { lines, key in
            if !lines.contains(where: { $0.hasPrefix("\(key):") }), let value = fields[key] {
                lines.append("\(key): \(value)")
            }
        }
        let line = (yaml.firstIndex { $0.hasPrefix("\(wrong.field):") } ?? 0) + 1
        let problem = try singleProblem(yaml.joined(separator: "\n"), in: folder)
        #expect(problem.hasPrefix("\(folder.path("jobs.yaml")):\(line): "))
        #expect(problem.contains(wrong.message))
    }

    @Test(arguments: [
        ("top_k: 0", "field 'top_k' in job 'q' is 0; expected a whole number from 1 to 1000 (default 5)"),
        ("top_k: 1001", "field 'top_k' in job 'q' is 1001"),
        ("top_k: many", "field 'top_k' in job 'q' is 'many'"),
        (
            "budget_chars: 0",
            "field 'budget_chars' in job 'q' is 0; expected a whole number of characters from 1 to 10000000 "
                + "(default: no budget)"
        ),
        ("budget_chars: 2k", "field 'budget_chars' in job 'q' is '2k'"),
        ("budget_chars: 10000001", "field 'budget_chars' in job 'q' is 10000001"),
        ("user: ''", "field 'user' in job 'q' is empty; expected a non-empty string"),
        ("user: {a: 1}", "field 'user' in job 'q' is a mapping; expected the user whose memory the queries search"),
        ("output: [a]", "field 'output' in job 'q' is a list; expected the path of the file to write results to"),
    ])
    func wrongValueInAQueryJob(field: String, message: String) throws {
        let folder = try TempFolder()
        let yaml = "name: q\nkind: query\nqueries: [{user: u, query: x}]\n\(field)\n"
        let problem = try singleProblem(yaml, in: folder)
        #expect(problem.hasPrefix("\(folder.path("jobs.yaml")):4: "))
        #expect(problem.contains(message))
    }

    @Test func ingestWithBothSourceAndMessages() throws {
        let folder = try TempFolder()
        try folder.write("a.jsonl", "")
        let problem = try singleProblem(
            "name: a\nkind: ingest\nsource: a.jsonl\nmessages:\n  - {user: u, session: s, role: user, content: x}\n",
            in: folder)
        #expect(
            problem.hasSuffix(
                ":4: job 'a' has both 'source' and 'messages'; keep one: a JSON Lines file or an "
                    + "inline list"))
    }

    @Test func ingestWithNeitherSourceNorMessages() throws {
        let folder = try TempFolder()
        let problem = try singleProblem("# ingest\nname: a\nkind: ingest\nbatch_size: 10\n", in: folder)
        #expect(
            problem.hasSuffix(
                ":2: job 'a' has neither 'source' nor 'messages'; add source: FILE.jsonl (a JSON "
                    + "Lines file) or an inline messages: list"))
    }

    @Test func queryWithBothAndWithNeither() throws {
        let folder = try TempFolder()
        try folder.write("q.jsonl", "")
        let file = try folder.write(
            "jobs.yaml",
            """
            jobs:
              - {name: both, kind: query, user: u, queries: [x], source: q.jsonl}
              - {name: neither, kind: query, user: u}
            """)
        #expect(
            problems([file]) == [
                "\(file):2: job 'both' has both 'source' and 'queries'; keep one: a JSON Lines file or an inline list",
                "\(file):3: job 'neither' has neither 'source' nor 'queries'; add source: FILE.jsonl (a JSON Lines "
                    + "file) or an inline queries: list",
            ])
    }

    @Test func missingSourceSaysWhereItLooked() throws {
        let folder = try TempFolder()
        let problem = try singleProblem("name: a\nkind: ingest\nsource: data/missing.jsonl\n", in: folder)
        #expect(
            problem == "\(folder.path("jobs.yaml")):3: source 'data/missing.jsonl' of job 'a' does not exist "
                + "(resolved to '\(folder.path("data/missing.jsonl"))' from the job file's folder)")
    }

    @Test func sourceThatIsADirectory() throws {
        let folder = try TempFolder()
        try folder.write("data/x", "")
        let problem = try singleProblem("name: a\nkind: query\nuser: u\nsource: \(folder.path("data"))\n", in: folder)
        #expect(problem.hasSuffix(":4: source '\(folder.path("data"))' of job 'a' is a directory, not a regular file"))
    }

    @Test func inlineMessageProblems() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "jobs.yaml",
            """
            name: m
            kind: ingest
            messages:
              - {user: "", session: s, role: bot, content: x}
              - [not, a, mapping]
              - {usr: a, session: s, role: user}
              - {user: a, session: s, role: user, content: x, created_at: 2024-13-01T00:00:00Z}
              - {user: a, session: s, role: user, content: x, created_at: "2024-05-01T10:00:00"}
              - {user: a, session: s, role: user, content: "a\\0b"}
            """)
        let found = problems([file]).map { $0.replacingOccurrences(of: file, with: "F") }
        #expect(
            found == [
                "F:4: field 'user' in message 1 of job 'm' is empty; expected a non-empty string",
                "F:4: field 'role' in message 1 of job 'm' is 'bot'; expected one of user, assistant, system, tool",
                "F:5: message 2 of job 'm' is a list; expected a mapping with user, session, role and content",
                "F:6: unknown field 'usr' in message 3 of job 'm'; did you mean 'user'?",
                "F:6: missing field 'user' in message 3 of job 'm'; expected a non-empty string",
                "F:6: missing field 'content' in message 3 of job 'm'; expected a string",
                "F:7: field 'created_at' in message 4 of job 'm' is '2024-13-01T00:00:00Z' (month 13 is out of "
                    + "range); expected \(RFC3339.example)",
                "F:8: field 'created_at' in message 5 of job 'm' is '2024-05-01T10:00:00' (no time zone: add Z for "
                    + "UTC or an offset such as +02:00); expected \(RFC3339.example)",
                "F:9: field 'content' in message 6 of job 'm' contains a NUL character (\\u0000), which PostgreSQL "
                    + "text cannot store; remove it from the source",
            ])
    }

    @Test func emptyInlineLists() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "jobs.yaml",
            """
            jobs:
              - {name: a, kind: ingest, messages: []}
              - {name: b, kind: query, user: u, queries: []}
            """)
        let found = problems([file])
        #expect(found.count == 2)
        #expect(
            found[0].hasSuffix(
                ":2: field 'messages' in job 'a' is an empty list; expected a list of messages, "
                    + "each with user, session, role and content"))
        #expect(
            found[1].hasSuffix(
                ":3: field 'queries' in job 'b' is an empty list; expected a list of queries, "
                    + "each a string or a mapping {user: ..., query: ...}"))
    }

    @Test func inlineQueryProblems() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "jobs.yaml",
            """
            name: q
            kind: query
            queries:
              - plain text needs a job user
              - {query: "no user either"}
              - {user: bob, query: ""}
              - {user: bob, qeury: typo}
              - [x]
            """)
        let found = problems([file]).map { $0.replacingOccurrences(of: file, with: "F") }
        #expect(
            found == [
                "F:4: query 1 of job 'q' names no user and the job has no 'user'; add user: NAME to the job, or write "
                    + "the query as {user: NAME, query: ...}",
                "F:5: missing field 'user' in query 2 of job 'q'; expected the user whose memory to search (the job "
                    + "has no 'user' to fall back on)",
                "F:6: field 'query' in query 3 of job 'q' is empty; expected a non-empty string",
                "F:7: unknown field 'qeury' in query 4 of job 'q'; did you mean 'query'?",
                "F:7: missing field 'query' in query 4 of job 'q'; expected the text to search for",
                "F:8: query 5 of job 'q' is a list; expected the query text or a mapping {user: ..., query: ...}",
            ])
    }

    @Test func yamlSyntaxErrorCitesItsLine() throws {
        let folder = try TempFolder()
        let problem = try singleProblem("name: a\nkind: ingest\n  source: : x\n", in: folder)
        #expect(problem.hasPrefix("\(folder.path("jobs.yaml")):3: invalid YAML at column"))
    }

    @Test func duplicateKeyIsAYAMLProblem() throws {
        let folder = try TempFolder()
        let problem = try singleProblem("name: a\nkind: query\nname: b\n", in: folder)
        #expect(problem.hasSuffix(":1: invalid YAML: key 'name' appears twice in one mapping; keep one"))
    }

    @Test func secondDocumentIsRefused() throws {
        let folder = try TempFolder()
        let problem = try singleProblem("name: a\nkind: query\nuser: u\nqueries: [x]\n---\nname: b\n", in: folder)
        #expect(
            problem.hasSuffix(
                ":5: invalid YAML: a second document starts here ('---'); a job file holds one "
                    + "document, so list several jobs under 'jobs:' instead"))
    }

    @Test(arguments: [
        ("", ":1: the file has no jobs; write one job (name: ..., kind: ...) or a list of them under 'jobs:'"),
        ("# only a comment\n", ":1: the file has no jobs"),
        ("- name: a\n", ":1: the file is a bare list; put the jobs under 'jobs:'"),
        ("hello\n", ":1: the file holds 'hello', not a job"),
        ("jobs:\n", ":1: 'jobs:' is empty; expected a list of jobs"),
        ("jobs: []\n", ":1: 'jobs:' is an empty list; expected at least one job"),
        ("jobs: {name: a}\n", ":1: 'jobs:' is a mapping; expected a list of jobs"),
        ("jobs:\n  - just text\n", ":2: item 1 of 'jobs:' is 'just text'; expected a job"),
        (
            "jobs:\n  - {name: a, kind: query, user: u, queries: [x]}\nkind: query\n",
            ":3: field 'kind' beside 'jobs:'; a file with a 'jobs:' list holds only the list, so move the field "
                + "into a job"
        ),
    ])
    func fileLayoutProblems(yaml: String, message: String) throws {
        let folder = try TempFolder()
        let problem = try singleProblem(yaml, in: folder)
        #expect(problem.hasPrefix(folder.path("jobs.yaml") + message))
    }

    @Test func unreadableJobFiles() throws {
        let folder = try TempFolder()
        let latin1 = try folder.write(
            "latin1.yaml", bytes: Array("name: a\n".utf8) + [0x6B, 0x69, 0x6E, 0x64, 0x3A, 0x20, 0xE9, 0x0A])
        let found = problems([folder.path("missing.yaml"), folder.path("."), latin1])
        #expect(
            found == [
                "\(folder.path("missing.yaml")):1: cannot read the job file: no such job file",
                "\(folder.path(".")):1: is a directory, not a job file",
                "\(latin1):2: the job file is not UTF-8 text; save it as UTF-8",
            ])
    }

    @Test func everyProblemOfEveryFileIsReportedInFileOrder() throws {
        let folder = try TempFolder()
        let first = try folder.write("b.yaml", "name: b\nkind: query\nuser: u\nqueries: [x]\ntopk: 3\n")
        let second = try folder.write("a.yaml", "name: a\nkind: ingest\nsource: nowhere.jsonl\nbatch_size: -1\n")
        let found = problems([first, second])
        #expect(found.count == 3)
        #expect(found[0].hasPrefix("\(first):5: unknown field 'topk' in job 'b'; did you mean 'top_k'?"))
        #expect(found[1].hasPrefix("\(second):3: source 'nowhere.jsonl' of job 'a' does not exist"))
        #expect(found[2].hasPrefix("\(second):4: field 'batch_size' in job 'a' is -1"))
    }

    @Test func sameFileTwiceIsReportedOnce() throws {
        let folder = try TempFolder()
        let file = try folder.write("a.yaml", "name: a\nkind: query\nuser: u\nqueries: [x]\n")
        let found = problems([file, folder.path("./a.yaml")])
        #expect(
            found == [
                "\(folder.path("./a.yaml")):1: the same job file as \(file), which is already in the batch; list it "
                    + "once"
            ])
    }

    @Test func errorDescriptionListsOneProblemPerLine() {
        let error = JobValidationError(problems: ["a.yaml:1: x", "b.yaml:2: y"])
        #expect(error.description == "a.yaml:1: x\nb.yaml:2: y")
    }
}
