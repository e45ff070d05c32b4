import Foundation
import Jobs
import Settings
import Testing

/// YAML anchor and alias bombs ("billion laughs"): nine anchors, each nine aliases of the one before, describe 9^9
/// values in a few hundred bytes. Every reader must refuse them before anything walks the expansion.
///
/// Each vector is tried first at a depth whose expansion is over the reader's budget yet small enough that a reader
/// without the guard would still finish (in about a second) and fail the test, then at nine levels, which such a
/// reader would never finish.
struct AliasBombTests {

    struct Vector: Sendable, CustomTestStringConvertible {
        enum Target: Sendable {
            case jobs
            case settings
        }

        var name: String
        var target: Target
        var mapping: Bool
        /// The file around the bomb: `{bomb}` is replaced by the anchor lines, `{last}` by the last anchor's name.
        var template: String
        var indent: String = ""

        var testDescription: String { name }

        func text(levels: Int) -> String {
            let bomb = Mutations.aliasBomb(levels: levels, indent: indent, mapping: mapping)
            return template.replacingOccurrences(of: "{bomb}", with: bomb.lines.joined(separator: "\n"))
                .replacingOccurrences(of: "{last}", with: bomb.last)
        }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "job file: list bomb in an unknown field", target: .jobs, mapping: false,
            template: "name: a\nkind: ingest\nsource: data/messages.jsonl\n{bomb}\n"),
        Vector(
            name: "job file: list bomb as depends_on", target: .jobs, mapping: false,
            template: "name: a\nkind: ingest\nsource: data/messages.jsonl\n{bomb}\ndepends_on: *{last}\n"),
        Vector(
            name: "job file: list bomb as messages", target: .jobs, mapping: false,
            template: "name: a\nkind: ingest\n{bomb}\nmessages: *{last}\n"),
        Vector(
            name: "job file: list bomb as queries", target: .jobs, mapping: false,
            template: "name: a\nkind: query\nuser: alice\n{bomb}\nqueries: *{last}\n"),
        Vector(
            name: "job file: list bomb as jobs", target: .jobs, mapping: false,
            template: "{bomb}\njobs: *{last}\n"),
        Vector(
            name: "job file: mapping bomb in an unknown field", target: .jobs, mapping: true,
            template: "name: a\nkind: ingest\nsource: data/messages.jsonl\n{bomb}\n"),
        Vector(
            name: "job file: list bomb as a mapping key", target: .jobs, mapping: false,
            template: "name: a\nkind: ingest\nsource: data/messages.jsonl\n{bomb}\n? *{last}\n: 1\n"),
        Vector(
            name: "config: list bomb under worker", target: .settings, mapping: false,
            template: "worker:\n{bomb}\n", indent: "  "),
        Vector(
            name: "config: mapping bomb under worker", target: .settings, mapping: true,
            template: "worker:\n{bomb}\n", indent: "  "),
        Vector(
            name: "config: mapping bomb under an unknown top-level key", target: .settings, mapping: true,
            template: "other:\n{bomb}\n", indent: "  "),
        Vector(
            name: "config: mapping bomb as unknown keys of postgres", target: .settings, mapping: true,
            template: "postgres:\n  pool_size: 2\n{bomb}\n", indent: "  "),
        Vector(
            name: "config: list bomb as a mapping key", target: .settings, mapping: false,
            template: "worker:\n{bomb}\n  ? *{last}\n  : 1\n", indent: "  "),
    ]

    @Test(arguments: vectors) func refusedBeforeExpansion(_ vector: Vector) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-bomb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        writeFile(
            atPath: folder.appendingPathComponent("data/messages.jsonl").path,
            contents: Data(JobFileFuzzTests.goodSource(messages: true).utf8))
        let path = folder.appendingPathComponent(vector.target == .jobs ? "jobs.yaml" : "config.yaml").path
        // 9^6 = 531,441 values is over the job files' 100,000; 9^4 = 6,561 over config.yaml's 1,000.
        for levels in [vector.target == .jobs ? 6 : 4, 9] {
            writeFile(atPath: path, contents: Data(vector.text(levels: levels).utf8))
            let problem = try #require(Self.firstProblem(vector.target, path: path), "\(levels) levels were loaded")
            try #require(
                problem.contains("refused YAML") && problem.contains(path + ":"),
                "\(levels) levels: not refused as an alias bomb: \(problem)")
        }
    }

    /// An alias as a key is refused however small: a duplicate-key check would hash its whole expansion.
    @Test(arguments: [Vector.Target.jobs, .settings]) func aliasAsAKeyIsRefused(_ target: Vector.Target) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("file.yaml").path
        writeFile(atPath: path, contents: Data("worker:\n  a: &k [1, 2]\n  *k : 3\n".utf8))
        let problem = try #require(Self.firstProblem(target, path: path))
        #expect(problem.hasPrefix("\(path):3: refused YAML: the alias *k is used as a mapping key"), "\(problem)")
    }

    /// Anchors within the budget are fine: shared defaults merged into several sections.
    @Test func sharedDefaultsStillLoad() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-anchor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("config.yaml").path
        writeFile(
            atPath: path,
            contents: Data(
                """
                postgres: &defaults
                  pool_size: 3
                  pool_timeout: 2.5
                database:
                  postgres:
                    <<: *defaults
                    pool_size: 4
                """.utf8))
        let settings = try SettingsLoader.load(configPath: path, environment: [:])
        #expect(settings.pool.minSize == 4)
    }

    /// The first problem loading `path` reports, or nil if it loaded.
    static func firstProblem(_ target: Vector.Target, path: String) -> String? {
        switch target {
        case .jobs:
            do {
                _ = try JobLoader.load(files: [path])
                return nil
            } catch {
                return error.problems.first ?? ""
            }
        case .settings:
            do {
                _ = try SettingsLoader.load(configPath: path, environment: [:])
                return nil
            } catch {
                return error.problems.first?.description ?? ""
            }
        }
    }
}
