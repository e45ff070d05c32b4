import Foundation
import Testing

@testable import Jobs

/// A fresh folder under the temporary directory for one test's files, removed when the test drops it.
final class TempFolder: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("jobs-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes `text` to `name` (folders created as needed) and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
        return file.path
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }
}

/// The problems loading `files` reports; records an issue when loading succeeds.
func problems(
    _ files: [String], queryLimits: QueryLimits = QueryLimits(), sourceLocation: SourceLocation = #_sourceLocation
) -> [String] {
    do {
        let jobs = try JobLoader.load(files: files, queryLimits: queryLimits)
        Issue.record("expected validation problems, got \(jobs.map(\.name))", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.problems
    }
}

/// The one problem loading `yaml` as `jobs.yaml` reports, with its path; records an issue unless there is exactly one.
func singleProblem(
    _ yaml: String, in folder: TempFolder, sourceLocation: SourceLocation = #_sourceLocation
) throws -> String {
    let file = try folder.write("jobs.yaml", yaml)
    let found = problems([file], sourceLocation: sourceLocation)
    #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
    return try #require(found.first, sourceLocation: sourceLocation)
}

extension Result {
    var value: Success? {
        if case .success(let value) = self { return value }
        return nil
    }

    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}

extension Job {
    var ingest: IngestSpec? {
        if case .ingest(let spec) = kind { return spec }
        return nil
    }

    var query: QuerySpec? {
        if case .query(let spec) = kind { return spec }
        return nil
    }
}

extension Source {
    var inlineItems: [Item]? {
        if case .inline(let items) = self { return items }
        return nil
    }

    var fileURL: URL? {
        if case .file(let url) = self { return url }
        return nil
    }
}

/// Dates for expectations, from seconds since 1970.
func date(_ seconds: Double) -> Date {
    Date(timeIntervalSince1970: seconds)
}
