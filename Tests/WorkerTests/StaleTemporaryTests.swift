import Foundation
import Testing

/// A worker killed mid-query (`kill -9`) leaves its `.<output>.<pid>.tmp` behind; the next run of the job removes
/// it, and says so, but leaves alone the temporary of a worker that is still running.
@Suite struct StaleTemporaryTests {
    @Test func theNextRunRemovesTheTemporaryOfAGoneWorkerOnly() async throws {
        let batch = try ProtectedFilesTests.Batch()
        let gone = try Self.idOfAFinishedProcess()
        let running = ProcessInfo.processInfo.processIdentifier
        let stale = batch.folder.appendingPathComponent(".out.jsonl.\(gone).tmp")
        let live = batch.folder.appendingPathComponent(".out.jsonl.\(running).tmp")
        let otherOutput = batch.folder.appendingPathComponent(".other.jsonl.\(gone).tmp")
        for file in [stale, live, otherOutput] {
            try "half-written results\n".write(to: file, atomically: false, encoding: .utf8)
        }
        let output = try await batch.run(["jobs.yaml"])
        #expect(output.status == 0, "\(output.combined)")
        #expect(!FileManager.default.fileExists(atPath: stale.path), "the gone worker's temporary is removed")
        #expect(output.stderr.contains("job ask: removed \(stale.path), the temporary output of a worker"))
        #expect(FileManager.default.fileExists(atPath: live.path), "a running worker's temporary stays")
        #expect(FileManager.default.fileExists(atPath: otherOutput.path), "another output's temporary is not ours")
        #expect(try batch.read("out.jsonl").contains("a note"))
        try await batch.remove()
    }

    /// The id of a process that has exited and been reaped, so no process of that id runs (until one is reused).
    static func idOfAFinishedProcess() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
