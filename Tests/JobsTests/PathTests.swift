import Foundation
import Testing

@testable import Jobs

/// `source` and `output` paths: resolved against the job file's folder, and outputs that would destroy files.
@Suite struct PathTests {
    @Test func relativePathsResolveAgainstTheJobFilesFolder() throws {
        let folder = try TempFolder()
        try folder.write("batch/data/alice.jsonl", "")
        try folder.write("batch/out/.keep", "")
        let ingest = try folder.write("batch/ingest.yaml", "name: i\nkind: ingest\nsource: data/alice.jsonl\n")
        let query = try folder.write(
            "batch/query.yaml", "name: q\nkind: query\nsource: ./data/../data/alice.jsonl\noutput: out/r.jsonl\n")
        let jobs = try JobLoader.load(files: [ingest, query])
        #expect(jobs[0].ingest?.source.fileURL?.path == folder.path("batch/data/alice.jsonl"))
        #expect(jobs[1].query?.source.fileURL?.path == folder.path("batch/data/alice.jsonl"))
        #expect(jobs[1].query?.output?.path == folder.path("batch/out/r.jsonl"))
    }

    @Test func aRelativeJobFilePathWorksFromTheWorkingDirectory() throws {
        let folder = try TempFolder()
        try folder.write("batch/data/alice.jsonl", "")
        try folder.write("batch/ingest.yaml", "name: i\nkind: ingest\nsource: data/alice.jsonl\n")
        // The same file named relative to the working directory (which is not the job file's folder).
        let cwd = FileManager.default.currentDirectoryPath
        let up = String(repeating: "../", count: URL(fileURLWithPath: cwd).pathComponents.count - 1)
        let relative = up + folder.path("batch/ingest.yaml").dropFirst()
        let job = try #require(try JobLoader.load(files: [relative]).first)
        #expect(job.file == relative)
        #expect(job.ingest?.source.fileURL?.path == folder.path("batch/data/alice.jsonl"))
    }

    @Test func absolutePathsAreKept() throws {
        let folder = try TempFolder()
        let source = try folder.write("elsewhere/q.jsonl", "")
        let file = try folder.write("batch/q.yaml", "name: q\nkind: query\nuser: u\nsource: \(source)\n")
        #expect(try JobLoader.load(files: [file]).first?.query?.source.fileURL?.path == source)
    }

    @Test func outputOntoASourceOfAnotherJob() throws {
        let folder = try TempFolder()
        try folder.write("alice.jsonl", "")
        let ingest = try folder.write("ingest.yaml", "name: i\nkind: ingest\nsource: alice.jsonl\n")
        let query = try folder.write(
            "sub/query.yaml", "name: q\nkind: query\nuser: u\nqueries: [x]\noutput: ../alice.jsonl\n")
        #expect(
            problems([ingest, query]) == [
                "\(query):5: output '../alice.jsonl' of job 'q' is the source of job 'i' (\(ingest):3); writing "
                    + "results would destroy it, so name another file"
            ])
    }

    @Test func outputOntoItsOwnSource() throws {
        let folder = try TempFolder()
        try folder.write("q.jsonl", "")
        let problem = try singleProblem("name: q\nkind: query\nuser: u\nsource: q.jsonl\noutput: q.jsonl\n", in: folder)
        #expect(problem.contains(":5: output 'q.jsonl' of job 'q' is the source of job 'q'"))
    }

    @Test func outputOntoTheJobFileItself() throws {
        let folder = try TempFolder()
        let problem = try singleProblem("name: q\nkind: query\nuser: u\nqueries: [x]\noutput: jobs.yaml\n", in: folder)
        #expect(
            problem == "\(folder.path("jobs.yaml")):5: output 'jobs.yaml' of job 'q' is the job file "
                + "\(folder.path("jobs.yaml")); writing results would destroy it, so name another file")
    }

    @Test func outputOntoTheConfigFile() throws {
        let folder = try TempFolder()
        let config = try folder.write("config.yaml", "postgres:\n  host: db\n")
        let file = try folder.write("q.yaml", "name: q\nkind: query\nuser: u\nqueries: [x]\noutput: config.yaml\n")
        do {
            _ = try JobLoader.load(files: [file], configFile: config)
            Issue.record("an output onto the config file was accepted")
        } catch {
            #expect(
                error.problems == [
                    "\(file):5: output 'config.yaml' of job 'q' is the config file \(config); writing results would "
                        + "destroy it, so name another file"
                ])
        }
        #expect(try JobLoader.load(files: [file]).count == 1, "without a config file the output is fine")
    }

    @Test func outputOntoAnotherJobFileThroughASymbolicLink() throws {
        let folder = try TempFolder()
        let other = try folder.write("other.yaml", "name: o\nkind: query\nuser: u\nqueries: [x]\n")
        try FileManager.default.createSymbolicLink(atPath: folder.path("link.yaml"), withDestinationPath: other)
        let file = try folder.write("q.yaml", "name: q\nkind: query\nuser: u\nqueries: [x]\noutput: link.yaml\n")
        let found = problems([other, file])
        #expect(found.count == 1)
        #expect(found.first?.contains(":5: output 'link.yaml' of job 'q' is the job file \(other)") == true)
    }

    @Test(arguments: [
        ("results", "is a directory, not a regular file; name a file to (over)write"),
        ("/dev/null", "is a character device, not a regular file; name a file to (over)write"),
        ("missing/r.jsonl", "is in a folder that does not exist"),
    ])
    func outputThatIsNotARegularFile(output: String, message: String) throws {
        let folder = try TempFolder()
        try folder.write("results/.keep", "")
        let problem = try singleProblem(
            "name: q\nkind: query\nuser: u\nqueries: [x]\noutput: \(output)\n", in: folder)
        #expect(problem.hasPrefix("\(folder.path("jobs.yaml")):5: output '\(output)' of job 'q' \(message)"))
    }

    @Test func twoJobsWritingOneOutput() throws {
        let folder = try TempFolder()
        let file = try folder.write(
            "jobs.yaml",
            """
            jobs:
              - {name: a, kind: query, user: u, queries: [x], output: r.jsonl}
              - {name: b, kind: query, user: u, queries: [x], output: ./r.jsonl}
            """)
        #expect(
            problems([file]) == [
                "\(file):3: output './r.jsonl' of job 'b' is also the output of job 'a' (\(file):2); one would "
                    + "overwrite the other, so give each job its own file"
            ])
    }

    @Test func existingOutputFileIsFine() throws {
        let folder = try TempFolder()
        try folder.write("r.jsonl", "old results\n")
        let file = try folder.write("q.yaml", "name: q\nkind: query\nuser: u\nqueries: [x]\noutput: r.jsonl\n")
        #expect(try JobLoader.load(files: [file]).first?.query?.output?.path == folder.path("r.jsonl"))
    }
}
