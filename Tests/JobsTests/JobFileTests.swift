import Foundation
import Testing

@testable import Jobs

@Suite struct JobFileTests {
    @Test func oneIngestJobWithEveryField() throws {
        let folder = try TempFolder()
        try folder.write("alice.jsonl", "")
        let file = try folder.write(
            "ingest.yaml",
            """
            # Alice's chats
            name: ingest-alice
            kind: ingest
            concurrency: 4
            depends_on: []
            source: alice.jsonl
            batch_size: 1_000
            chunk:
              max_chars: 800
            on_bad_record: skip
            """)
        let jobs = try JobLoader.load(files: [file])
        let job = try #require(jobs.first)
        #expect(jobs.count == 1)
        #expect(job.name == "ingest-alice")
        #expect(job.id == "ingest-alice")
        #expect(job.file == file)
        #expect(job.line == 2)
        #expect(job.concurrency == 4)
        #expect(job.dependsOn.isEmpty)
        let spec = try #require(job.ingest)
        #expect(spec.source.fileURL?.path == folder.path("alice.jsonl"))
        #expect(spec.batchSize == 1000)
        #expect(spec.maxChunkChars == 800)
        #expect(spec.onBadRecord == .skip)
    }

    @Test func ingestDefaults() throws {
        let folder = try TempFolder()
        try folder.write("a.jsonl", "")
        let file = try folder.write("a.yaml", "name: a\nkind: ingest\nsource: a.jsonl\n")
        let job = try #require(try JobLoader.load(files: [file]).first)
        let spec = try #require(job.ingest)
        #expect(job.concurrency == nil)
        #expect(job.dependsOn == [])
        #expect(spec.batchSize == 500)
        #expect(spec.maxChunkChars == 2000)
        #expect(spec.onBadRecord == .fail)
    }

    @Test func nullMeansDefault() throws {
        let folder = try TempFolder()
        try folder.write("a.jsonl", "")
        let file = try folder.write(
            "a.yaml", "name: a\nkind: ingest\nsource: a.jsonl\nbatch_size:\nconcurrency: ~\ndepends_on:\n")
        let job = try #require(try JobLoader.load(files: [file]).first)
        #expect(job.concurrency == nil)
        #expect(job.ingest?.batchSize == 500)
    }

    @Test func oneQueryJobWithEveryField() throws {
        let folder = try TempFolder()
        try folder.write("questions.jsonl", "")
        try folder.write("results/.keep", "")
        let ingest = try folder.write(
            "ingest.yaml",
            "name: ingest-alice\nkind: ingest\nmessages: [{user: a, session: s, role: user, content: hi}]\n")
        let query = try folder.write(
            "query.yaml",
            """
            name: ask-alice
            kind: query
            concurrency: 2
            depends_on: ingest-alice
            user: alice
            source: questions.jsonl
            top_k: 10
            budget_chars: 2000
            output: results/answers.jsonl
            on_bad_record: skip
            """)
        let jobs = try JobLoader.load(files: [ingest, query])
        #expect(jobs.map(\.name) == ["ingest-alice", "ask-alice"])
        let job = try #require(jobs.last)
        #expect(job.concurrency == 2)
        #expect(job.dependsOn == ["ingest-alice"])
        let spec = try #require(job.query)
        #expect(spec.user == "alice")
        #expect(spec.source.fileURL?.path == folder.path("questions.jsonl"))
        #expect(spec.topK == 10)
        #expect(spec.budgetChars == 2000)
        #expect(spec.output?.path == folder.path("results/answers.jsonl"))
        #expect(spec.onBadRecord == .skip)
    }

    @Test func queryDefaults() throws {
        let folder = try TempFolder()
        let file = try folder.write("q.yaml", "name: q\nkind: query\nuser: alice\nqueries: [what did I eat?]\n")
        let spec = try #require(try JobLoader.load(files: [file]).first?.query)
        #expect(spec.topK == 5)
        #expect(spec.output == nil)
        #expect(spec.onBadRecord == .fail)
    }

    @Test func jobsListKeepsFileOrderThenListOrder() throws {
        let folder = try TempFolder()
        let first = try folder.write(
            "1.yaml",
            """
            jobs:
              - name: b
                kind: query
                user: alice
                queries: [x]
              - name: a
                kind: query
                user: alice
                queries: [y]
                depends_on: [b, c]
            """)
        let second = try folder.write("2.yaml", "name: c\nkind: query\nuser: bob\nqueries: [z]\n")
        let jobs = try JobLoader.load(files: [second, first])
        #expect(jobs.map(\.name) == ["c", "b", "a"])
        #expect(jobs.map(\.line) == [1, 2, 6])
        #expect(jobs[2].dependsOn == ["b", "c"])
        #expect(jobs[1].file == first)
    }

    @Test func repeatedDependencyIsListedOnce() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "j.yaml",
            """
            jobs:
              - {name: a, kind: query, user: u, queries: [x]}
              - {name: b, kind: query, user: u, queries: [x], depends_on: [a, a]}
            """)
        #expect(try JobLoader.load(files: [file]).last?.dependsOn == ["a"])
    }

    @Test func inlineMessagesGetTheirIndexAsPositionAndTheirIds() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "j.yaml",
            """
            name: inline
            kind: ingest
            messages:
              - {user: alice, session: s1, role: user, content: Hi}
              - {user: alice, session: s1, role: assistant, content: Hello, created_at: 2024-05-01T12:00:00Z}
              - {user: alice, session: s2, role: user, content: Other session}
              - user: bob
                session: s1
                role: system
                content: ""
              - {user: alice, session: s1, role: tool, content: "42", created_at: "2024-05-01T14:00:00.5+02:00"}
              - {id: 7, user: bob, session: s1, role: user, content: seven}
              - {id: m-8, user: bob, session: s1, role: user, content: eight}
            """)
        let messages = try #require(try JobLoader.load(files: [file]).first?.ingest?.source.inlineItems)
        #expect(
            messages == [
                Message(user: "alice", session: "s1", position: 0, role: .user, content: "Hi", line: 4),
                Message(
                    user: "alice", session: "s1", position: 1, role: .assistant, content: "Hello",
                    createdAt: date(1_714_564_800), line: 5),
                Message(user: "alice", session: "s2", position: 2, role: .user, content: "Other session", line: 6),
                Message(user: "bob", session: "s1", position: 3, role: .system, content: "", line: 7),
                Message(
                    user: "alice", session: "s1", position: 4, role: .tool, content: "42",
                    createdAt: date(1_714_564_800.5), line: 11),
                Message(user: "bob", session: "s1", position: 5, id: "7", role: .user, content: "seven", line: 12),
                Message(user: "bob", session: "s1", position: 6, id: "m-8", role: .user, content: "eight", line: 13),
            ])
    }

    @Test func inlineQueriesUseTheJobUserUnlessTheyNameOne() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "j.yaml",
            """
            name: ask
            kind: query
            user: alice
            queries:
              - where do I live?
              - {user: bob, query: what is my job?}
              - query: favourite food
            """)
        let queries = try #require(try JobLoader.load(files: [file]).first?.query?.source.inlineItems)
        #expect(
            queries == [
                QueryItem(user: "alice", query: "where do I live?", line: 5),
                QueryItem(user: "bob", query: "what is my job?", line: 6),
                QueryItem(user: "alice", query: "favourite food", line: 7),
            ])
    }

    @Test func queriesWithoutJobUserNameTheirOwn() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "j.yaml", "name: ask\nkind: query\nqueries:\n  - {user: bob, query: hi}\n")
        let spec = try #require(try JobLoader.load(files: [file]).first?.query)
        #expect(spec.user == nil)
        #expect(spec.source.inlineItems == [QueryItem(user: "bob", query: "hi", line: 4)])
    }

    @Test func querySourceWithoutJobUserIsAllowed() throws {
        let folder = try TempFolder()
        try folder.write("q.jsonl", "")
        let file = try folder.write("j.yaml", "name: ask\nkind: query\nsource: q.jsonl\n")
        #expect(try JobLoader.load(files: [file]).first?.query?.user == nil)
    }

    @Test func scalarNamesAreTakenAsWritten() throws {
        let folder = try TempFolder()
        let file = try folder.write("j.yaml", "name: 2024\nkind: query\nuser: 007\nqueries: [yes]\n")
        let job = try #require(try JobLoader.load(files: [file]).first)
        #expect(job.name == "2024")
        #expect(job.query?.user == "007")
        #expect(job.query?.source.inlineItems?.first?.query == "yes")
    }

    @Test func noFilesMeansNoJobs() throws {
        #expect(try JobLoader.load(files: []).isEmpty)
    }
}
