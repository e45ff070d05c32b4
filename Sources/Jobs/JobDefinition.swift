import Foundation

/// A validated job as data, for a queue that stores a batch on one host and runs it on another.
///
/// It holds what ``JobLoader`` resolved, not the YAML: absolute paths (a drain may run in any directory), the
/// defaults the enqueuing host's settings filled in, and inline messages and queries as validated, so every host
/// runs the same job whatever its own files or settings say. Encode it with `JSONEncoder`'s default date strategy,
/// which keeps a `Date` bit for bit: a message's `created_at` is part of its identity in the store.
public struct JobDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var file: String
    public var line: Int
    public var concurrency: Int?
    public var dependsOn: [String]
    public var ingest: Ingest?
    public var query: Query?

    public struct Ingest: Codable, Sendable, Equatable {
        public var source: String?
        public var messages: [Message]?
        public var batchSize: Int
        public var maxChunkChars: Int
        public var onBadRecord: String
    }

    public struct Query: Codable, Sendable, Equatable {
        public var user: String?
        public var source: String?
        public var queries: [QueryItem]?
        public var topK: Int
        public var budgetChars: Int?
        public var output: String?
        public var onBadRecord: String
        public var maxChars: Int
        public var maxWords: Int
    }

    /// Why a stored definition cannot become a job again: written by another version of the worker, or edited.
    public struct Invalid: Error, CustomStringConvertible {
        public var job: String
        public var reason: String
        public var description: String { "queued job '\(job)' cannot be read: \(reason)" }
    }

    public init(_ job: Job) {
        name = job.name
        file = job.file
        line = job.line
        concurrency = job.concurrency
        dependsOn = job.dependsOn
        switch job.kind {
        case .ingest(let spec):
            var ingest = Ingest(
                batchSize: spec.batchSize, maxChunkChars: spec.maxChunkChars, onBadRecord: spec.onBadRecord.rawValue)
            switch spec.source {
            case .file(let url): ingest.source = url.path
            case .inline(let messages): ingest.messages = messages
            }
            self.ingest = ingest
        case .query(let spec):
            var query = Query(
                user: spec.user, topK: spec.topK, budgetChars: spec.budgetChars, output: spec.output?.path,
                onBadRecord: spec.onBadRecord.rawValue, maxChars: spec.limits.maxCharacters,
                maxWords: spec.limits.maxWords)
            switch spec.source {
            case .file(let url): query.source = url.path
            case .inline(let items): query.queries = items
            }
            self.query = query
        }
    }

    /// The job again, as ``JobLoader`` made it.
    public func job() throws(Invalid) -> Job {
        let kind: Job.Kind
        switch (ingest, query) {
        case (let ingest?, nil):
            let source: Source<Message>
            switch (ingest.source, ingest.messages) {
            case (let path?, nil): source = .file(URL(fileURLWithPath: path))
            case (nil, let messages?): source = .inline(messages)
            default: throw Invalid(job: name, reason: "an ingest job needs exactly one of source and messages")
            }
            kind = .ingest(
                IngestSpec(
                    source: source, batchSize: ingest.batchSize, maxChunkChars: ingest.maxChunkChars,
                    onBadRecord: try onBadRecord(ingest.onBadRecord)))
        case (nil, let query?):
            let source: Source<QueryItem>
            switch (query.source, query.queries) {
            case (let path?, nil): source = .file(URL(fileURLWithPath: path))
            case (nil, let items?): source = .inline(items)
            default: throw Invalid(job: name, reason: "a query job needs exactly one of source and queries")
            }
            kind = .query(
                QuerySpec(
                    user: query.user, source: source, topK: query.topK, budgetChars: query.budgetChars,
                    output: query.output.map { URL(fileURLWithPath: $0) },
                    onBadRecord: try onBadRecord(query.onBadRecord),
                    limits: QueryLimits(maxCharacters: query.maxChars, maxWords: query.maxWords)))
        default:
            throw Invalid(job: name, reason: "it is neither an ingest nor a query job")
        }
        return Job(name: name, file: file, line: line, kind: kind, concurrency: concurrency, dependsOn: dependsOn)
    }

    /// The files the job reads, which every host that runs it must be able to read.
    public var sources: [String] { [ingest?.source, query?.source].compactMap { $0 } }

    private func onBadRecord(_ value: String) throws(Invalid) -> OnBadRecord {
        guard let rule = OnBadRecord(rawValue: value) else {
            throw Invalid(job: name, reason: "on_bad_record '\(value)' is not one of fail, skip")
        }
        return rule
    }
}
