import Foundation
import Testing

/// `worker --version` names the git commit it was built from (the GitCommit build-tool plugin running
/// `scripts/git-commit` before every build), and the script leaves it out, without failing the build, where there is
/// no checkout of the package's own or no git.
@Suite struct VersionTests {
    static let script = ReportSchemaTests.repository.appendingPathComponent("scripts/git-commit")

    static func git(_ arguments: [String]) async throws -> String {
        let output = try await WorkerProcess.launch(
            URL(fileURLWithPath: "/usr/bin/git"), ["-C", ReportSchemaTests.repository.path] + arguments,
            environment: ProcessInfo.processInfo.environment, directory: nil, timeout: .seconds(60))
        try #require(output.status == 0, "\(output.combined)")
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What `scripts/git-commit` writes for the package at `folder`, run with `environment`.
    static func generated(for folder: URL, environment: [String: String] = ProcessInfo.processInfo.environment)
        async throws -> String
    {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mw-commit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try await WorkerProcess.launch(
            script, [folder.path, file.path], environment: environment, directory: nil, timeout: .seconds(60))
        try #require(output.status == 0, "\(output.combined)")
        return try String(contentsOf: file, encoding: .utf8)
    }

    @Test func theVersionNamesTheCommitBuilt() async throws {
        let head = try await Self.git(["rev-parse", "HEAD"])
        let output = try await WorkerProcess.run(["--version"])
        #expect(output.status == 0, "\(output.stderr)")
        let line = output.stdout.trimmingCharacters(in: .newlines)
        #expect(line.wholeMatch(of: /\d+\.\d+\.\d+ \(git [0-9a-f]{40}(-dirty)?\)/) != nil, "\(line)")
        #expect(line.contains("(git \(head)"), "\(line) is not HEAD \(head)")
    }

    @Test func theScriptWritesTheCheckoutsCommit() async throws {
        let head = try await Self.git(["rev-parse", "HEAD"])
        let text = try await Self.generated(for: ReportSchemaTests.repository)
        #expect(text.hasPrefix("let gitCommit: String? = \"\(head)"), "\(text)")
    }

    @Test func withoutACheckoutOfItsOwnOrWithoutGitTheCommitIsNil() async throws {
        let none = "let gitCommit: String? = nil\n"
        let unpacked = FileManager.default.temporaryDirectory.appendingPathComponent("mw-tarball-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: unpacked) }
        #expect(try await Self.generated(for: unpacked) == none)
        // A folder inside another repository is not a checkout of the package: that repository's commit is not its.
        #expect(try await Self.generated(for: ReportSchemaTests.repository.appendingPathComponent("Sources")) == none)
        #expect(
            try await Self.generated(for: ReportSchemaTests.repository, environment: ["PATH": "/nonexistent"]) == none)
    }

    @Test func anUnchangedCommitLeavesTheFileAlone() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mw-commit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let run = {
            try await WorkerProcess.launch(
                Self.script, [ReportSchemaTests.repository.path, file.path],
                environment: ProcessInfo.processInfo.environment, directory: nil, timeout: .seconds(60))
        }
        #expect(try await run().status == 0)
        // Back-dated, so that a second run that rewrote the file would give it a new modification time.
        let past = Date(timeIntervalSince1970: 1_000_000)
        try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: file.path)
        #expect(try await run().status == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date == past)
    }
}
