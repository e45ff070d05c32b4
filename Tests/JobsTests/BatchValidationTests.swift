import Foundation
import Testing

@testable import Jobs

/// The checks across jobs and files: names, dependencies, cycles.
@Suite struct BatchValidationTests {
    @Test func duplicateNamesAcrossTwoFilesCiteBothLocations() throws {
        let folder = try TempFolder()
        let first = try folder.write(
            "first.yaml",
            """
            jobs:
              - {name: a, kind: query, user: u, queries: [x]}
              - {name: shared, kind: query, user: u, queries: [x]}
            """)
        let second = try folder.write("second.yaml", "\nname: shared\nkind: query\nuser: u\nqueries: [y]\n")
        #expect(
            problems([first, second]) == [
                "\(second):2: duplicate job name 'shared': also defined at \(first):3; names must be unique across "
                    + "all job files of a batch, so rename one of them"
            ])
    }

    @Test func duplicateNamesInOneFile() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "jobs.yaml",
            """
            jobs:
              - {name: a, kind: query, user: u, queries: [x]}
              - {name: a, kind: query, user: u, queries: [x]}
            """)
        #expect(
            problems([file]).first?.hasPrefix("\(file):3: duplicate job name 'a': also defined at \(file):2") == true)
    }

    @Test func unknownDependencyCitesTheEntryAndSuggests() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "jobs.yaml",
            """
            jobs:
              - {name: ingest-alice, kind: ingest, messages: [{user: a, session: s, role: user, content: x}]}
              - name: ask
                kind: query
                user: a
                queries: [x]
                depends_on:
                  - ingest-alice
                  - ingest-alcie
                  - something-else
            """)
        #expect(
            problems([file]) == [
                "\(file):9: job 'ask' depends on 'ingest-alcie', which is not a job in this batch; did you mean "
                    + "'ingest-alice'?",
                "\(file):10: job 'ask' depends on 'something-else', which is not a job in this batch; fix the name, "
                    + "or add the job file that defines it to the command line",
            ])
    }

    /// `b` is one edit from `a`, but a job depending on itself is never what was meant.
    @Test func aMissingDependencyIsNeverSuggestedAsTheJobItself() throws {
        let folder = try TempFolder()
        let file = try folder.write("jobs.yaml", "name: b\nkind: query\nuser: u\nqueries: [x]\ndepends_on: a\n")
        #expect(
            problems([file]) == [
                "\(file):5: job 'b' depends on 'a', which is not a job in this batch; fix the name, or add the job "
                    + "file that defines it to the command line"
            ])
    }

    @Test func dependencyOnAJobInAnotherFileIsFine() throws {
        let folder = try TempFolder()
        let first = try folder.write("1.yaml", "name: a\nkind: query\nuser: u\nqueries: [x]\ndepends_on: b\n")
        let second = try folder.write("2.yaml", "name: b\nkind: query\nuser: u\nqueries: [x]\n")
        #expect(try JobLoader.load(files: [first, second]).map(\.dependsOn) == [["b"], []])
    }

    @Test func threeJobCycleIsNamedOnce() throws {
        let folder = try TempFolder()
        let first = try folder.write(
            "1.yaml",
            """
            jobs:
              - {name: a, kind: query, user: u, queries: [x], depends_on: [b]}
              - {name: b, kind: query, user: u, queries: [x], depends_on: [c]}
              - {name: free, kind: query, user: u, queries: [x], depends_on: [a]}
            """)
        let second = try folder.write(
            "2.yaml", "name: c\nkind: query\nuser: u\nqueries: [x]\ndepends_on:\n  - free\n  - a\n")
        #expect(
            problems([first, second]) == [
                "\(first):2: dependency cycle: a -> b -> c -> a; jobs on a cycle can never start, so remove one of "
                    + "these depends_on entries: \(first):2, \(first):3, \(second):7"
            ])
    }

    @Test func selfDependencyIsACycle() throws {
        let folder = try TempFolder()
        let problem = try singleProblem("name: me\nkind: query\nuser: u\nqueries: [x]\ndepends_on: me\n", in: folder)
        #expect(
            problem.hasSuffix(
                ":5: dependency cycle: me -> me; jobs on a cycle can never start, so remove one of "
                    + "these depends_on entries: \(folder.path("jobs.yaml")):5"))
    }

    @Test func separateCyclesAreEachReported() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "jobs.yaml",
            """
            jobs:
              - {name: a, kind: query, user: u, queries: [x], depends_on: [b]}
              - {name: b, kind: query, user: u, queries: [x], depends_on: [a]}
              - {name: c, kind: query, user: u, queries: [x], depends_on: [d]}
              - {name: d, kind: query, user: u, queries: [x], depends_on: [c, a]}
            """)
        let found = problems([file])
        #expect(found.count == 2)
        #expect(found[0].contains(":2: dependency cycle: a -> b -> a;"))
        #expect(found[1].contains(":4: dependency cycle: c -> d -> c;"))
    }

    @Test func crossChecksStillRunWhenAJobHasOtherProblems() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "jobs.yaml",
            """
            jobs:
              - {name: a, kind: query, user: u, queries: [x], top_k: 0, depends_on: [ghost]}
              - {name: a, kind: ingest}
            """)
        let found = problems([file])
        #expect(found.count == 4)
        #expect(found.contains { $0.contains(":2: field 'top_k' in job 'a' is 0") })
        #expect(found.contains { $0.contains(":2: job 'a' depends on 'ghost'") })
        #expect(found.contains { $0.contains(":3: job 'a' has neither 'source' nor 'messages'") })
        #expect(found.contains { $0.contains(":3: duplicate job name 'a'") })
    }
}
