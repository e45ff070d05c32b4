import Foundation

/// What to do with a record that cannot be used.
///
/// `fail` is the default because a silently shortened import is worse than a stopped one; `skip` is for sources
/// known to be messy, where the bad records are reported and the rest goes in.
public enum OnBadRecord: String, Sendable, CaseIterable {
    case fail
    case skip
}

/// Where a job's records come from: a JSON Lines file, streamed when the job runs, or a list written into the job
/// file and already checked by `JobLoader`.
public enum Source<Item: Sendable>: Sendable {
    case file(URL)
    case inline([Item])
}

/// How an ingest job stores messages.
public struct IngestSpec: Sendable {
    public var source: Source<Message>
    /// Messages per write; bounds memory and the size of one transaction.
    public var batchSize: Int
    /// The longest piece of content stored as one chunk.
    public var maxChunkChars: Int
    public var onBadRecord: OnBadRecord

    public init(
        source: Source<Message>, batchSize: Int = 500, maxChunkChars: Int = 2000, onBadRecord: OnBadRecord = .fail
    ) {
        self.source = source
        self.batchSize = batchSize
        self.maxChunkChars = maxChunkChars
        self.onBadRecord = onBadRecord
    }
}

/// How a query job searches memory.
public struct QuerySpec: Sendable {
    /// The user for queries that do not name their own.
    public var user: String?
    public var source: Source<QueryItem>
    public var topK: Int
    /// The most text (characters) a query's hits may add up to; the ranked hits are cut before the first that would
    /// pass it. Nil: only `topK` bounds them.
    public var budgetChars: Int?
    /// Where results go; nil means the caller's default (standard output). Never the job file or a source.
    public var output: URL?
    public var onBadRecord: OnBadRecord
    /// The longest query text; inline queries were checked against it when the job was loaded, a source's queries
    /// are checked as they are read.
    public var limits: QueryLimits

    public init(
        user: String?, source: Source<QueryItem>, topK: Int = 5, budgetChars: Int? = nil, output: URL? = nil,
        onBadRecord: OnBadRecord = .fail, limits: QueryLimits = QueryLimits()
    ) {
        self.user = user
        self.source = source
        self.topK = topK
        self.budgetChars = budgetChars
        self.output = output
        self.onBadRecord = onBadRecord
        self.limits = limits
    }
}

/// One validated job of a batch. Every reference it holds (dependencies, files) was checked before it was made.
public struct Job: Sendable, Identifiable {
    public enum Kind: Sendable {
        case ingest(IngestSpec)
        case query(QuerySpec)
    }

    /// Names are unique in a batch, so they identify jobs in dependencies, logs and reports.
    public var id: String { name }
    public var name: String
    /// The job file as given on the command line, for messages.
    public var file: String
    /// The line where the job starts in `file`.
    public var line: Int
    public var kind: Kind
    /// Nil when the job file does not say, so the caller's default applies.
    public var concurrency: Int?
    /// Names of jobs that must finish first, in the order written, without repeats.
    public var dependsOn: [String]

    public init(
        name: String, file: String, line: Int, kind: Kind, concurrency: Int? = nil, dependsOn: [String] = []
    ) {
        self.name = name
        self.file = file
        self.line = line
        self.kind = kind
        self.concurrency = concurrency
        self.dependsOn = dependsOn
    }
}
