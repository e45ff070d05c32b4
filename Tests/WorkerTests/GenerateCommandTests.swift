import Foundation
import Testing

@Suite struct GenerateCommandTests {
    @Test func sameSeedGivesIdenticalOutputWithExactlyTheRequestedLines() async throws {
        let first = try await WorkerProcess.run(["generate", "--messages", "1000", "--seed", "7"])
        let second = try await WorkerProcess.run(["generate", "--messages", "1000", "--seed", "7"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == second.stdout)
        #expect(first.stdoutLines.count == 1000)
        #expect(first.stdout.hasSuffix("\n"))
        let otherSeed = try await WorkerProcess.run(["generate", "--messages", "1000", "--seed", "8"])
        #expect(otherSeed.stdout != first.stdout)
    }

    @Test func linesAreJSONObjectsWithTheIngestFields() async throws {
        let output = try await WorkerProcess.run(["generate", "--users", "3", "--sessions", "4", "--messages", "50"])
        #expect(output.status == 0, "\(output.stderr)")
        var users = Set<String>()
        for line in output.stdoutLines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["user", "session", "role", "content", "created_at"])
            users.insert(object["user"] as? String ?? "")
        }
        #expect(output.stdoutLines.count == 50)
        #expect(users == ["user-0001", "user-0002", "user-0003"])
    }

    @Test func outputFileMatchesStandardOutput() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("generate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("messages.jsonl")
        let written = try await WorkerProcess.run(["generate", "--messages", "300", "--output", file.path])
        let printed = try await WorkerProcess.run(["generate", "--messages", "300"])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.isEmpty)
        #expect(String(decoding: try Data(contentsOf: file), as: UTF8.self) == printed.stdout)
    }

    @Test(arguments: [["--users", "0"], ["--sessions=-1"], ["--messages=-5"]])
    func invalidNumbersExitTwo(arguments: [String]) async throws {
        let output = try await WorkerProcess.run(["generate"] + arguments)
        #expect(output.status == 2)
        #expect(output.stderr.contains("worker: generate:"))
    }

    @Test func unwritableOutputExitsTwo() async throws {
        let output = try await WorkerProcess.run(["generate", "--output", "/nonexistent-folder/messages.jsonl"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("/nonexistent-folder/messages.jsonl"))
    }
}
