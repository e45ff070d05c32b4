import Foundation
import Testing

/// Job files and the config file read YAML through one function, so the same broken text gets the same words.
struct YAMLWordingTests {
    @Test(arguments: [
        "worker:\n  a: 1\n   b: 2\n",  // a syntax error
        "worker:\n  a: 1\n  a: 2\n",  // a duplicate key
        "worker:\n  a: \"open\n",  // an unterminated quote
        "worker:\n  a: &k [1, 2]\n  *k : 3\n",  // an alias as a key
    ])
    func jobFilesAndConfigFileWordAProblemAlike(_ text: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-wording-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("file.yaml").path
        writeFile(atPath: path, contents: Data(text.utf8))
        let job = try #require(AliasBombTests.firstProblem(.jobs, path: path))
        let config = try #require(AliasBombTests.firstProblem(.settings, path: path))
        #expect(job == config)
        #expect(job.hasPrefix(path + ":") && job.contains(" YAML"), "\(job)")
    }
}
