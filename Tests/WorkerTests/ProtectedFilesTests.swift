import Foundation
import Testing

/// The files a batch reads are never overwritten by what it writes: `--report-file` may be no job file, source,
/// config file or output, and an `output:` may not be the config file. Refused with exit 2, before anything runs.
@Suite struct ProtectedFilesTests {
    /// A folder with a config naming a schema of its own, a source, and jobs that read it and write `out.jsonl`.
    struct Batch {
        let folder: URL
        let schema = "protected_\(UInt32.random(in: 0...UInt32.max))"

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-protected-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try write(
                "config.yaml", "worker:\n  store_schema: \(schema)\npostgres:\n  application_name: mw-protected\n")
            try write("m.jsonl", "{\"user\": \"u\", \"session\": \"s\", \"role\": \"user\", \"content\": \"a note\"}\n")
            try write(
                "jobs.yaml",
                "jobs:\n  - {name: load, kind: ingest, source: m.jsonl}\n"
                    + "  - {name: ask, kind: query, user: u, queries: [note], depends_on: load, output: out.jsonl}\n")
            try write("out.jsonl", "earlier results\n")
        }

        func write(_ name: String, _ text: String) throws {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }

        func read(_ name: String) throws -> String {
            try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        }

        func run(_ arguments: [String]) async throws -> WorkerProcess.Output {
            try await WorkerProcess.run(arguments, directory: folder)
        }

        /// Whether a run got as far as preparing the store.
        func storeExists() async throws -> Bool {
            try await ScratchSchema.exists(schema)
        }

        func remove() async throws {
            try await ScratchSchema.drop(schema)
            try? FileManager.default.removeItem(at: folder)
        }
    }

    @Test(arguments: [
        ("jobs.yaml", "is the job file jobs.yaml"),
        ("./m.jsonl", "is the source of job 'load' (jobs.yaml:2)"),
        ("config.yaml", "is the config file config.yaml"),
        ("out.jsonl", "is the output of job 'ask' (jobs.yaml:3)"),
    ])
    func aReportFileOntoAFileOfTheBatchIsRefused(reportFile: String, what: String) async throws {
        let batch = try Batch()
        let name = URL(fileURLWithPath: reportFile).lastPathComponent
        let before = try batch.read(name)
        let output = try await batch.run(["jobs.yaml", "--report-file", reportFile])
        #expect(output.status == 2, "\(output.combined)")
        #expect(
            output.stderr.contains(
                "worker: --report-file '\(reportFile)' \(what); writing the report would destroy it, so name another "
                    + "file"), "\(output.stderr)")
        #expect(try batch.read(name) == before, "nothing written")
        #expect(try await !batch.storeExists(), "nothing run")
        // The same batch with a report file of its own runs, so the checks above could have failed.
        let good = try await batch.run(["jobs.yaml", "--report-file", "report.json"])
        #expect(good.status == 0, "\(good.combined)")
        #expect(try await batch.storeExists())
        #expect(try batch.read("report.json").contains("\"leaks\""))
        try await batch.remove()
    }

    @Test func anOutputOntoTheConfigFileIsRefused() async throws {
        let batch = try Batch()
        try batch.write("jobs.yaml", "name: ask\nkind: query\nuser: u\nqueries: [note]\noutput: ./config.yaml\n")
        let before = try batch.read("config.yaml")
        let message =
            "jobs.yaml:5: output './config.yaml' of job 'ask' is the config file config.yaml; writing results would "
            + "destroy it, so name another file"
        let output = try await batch.run(["jobs.yaml"])
        #expect(output.status == 2, "\(output.combined)")
        #expect(output.stderr.contains(message), "\(output.stderr)")
        let validate = try await batch.run(["validate", "jobs.yaml"])
        #expect(validate.status == 2)
        #expect(validate.stderr.contains(message), "\(validate.stderr)")
        #expect(try batch.read("config.yaml") == before)
        #expect(try await !batch.storeExists(), "nothing run")
        try await batch.remove()
    }
}
