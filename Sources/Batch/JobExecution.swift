import Foundation
import Jobs
import Logging
import MemoryStore
import Postgres
import Support

/// What one job did.
struct JobOutcome: Sendable {
    var items = 0
    var inserted: Int?
    var duplicates: Int?
    var chunks: Int?
    var hits: Int?
    var badRecords = 0
    var badRecordList: [String] = []
    var retries = 0
    /// A shutdown request stopped the job before its source was done.
    var interrupted = false
    var error: String?
    /// The SQLSTATE of the error that failed the job, where the server gave one (for the logs).
    var sqlState: String?
    /// The job failed because the database stayed unreachable through every retry.
    var databaseUnavailable = false

    /// Bad records listed in the report; the count covers all of them.
    static let listedBadRecords = 100

    /// Records why the job stopped; during a shutdown any error (a cancelled statement, a rolled-back batch) is the
    /// interruption itself, not a failure of the job.
    mutating func fail(_ error: any Error, shuttingDown: Bool) {
        if shuttingDown || error is CancellationError {
            interrupted = true
            return
        }
        self.error = "\(error)"
        sqlState = FailureDiagnosis(error).sqlState
        if case MemoryStoreError.statementTimeout(let kind, _) = error {
            self.error? += "; if such statements are expected, raise \(Self.timeoutSetting(kind)) (0 = no timeout)"
        }
        databaseUnavailable = RetryPolicy.isTransient(error)
    }

    /// The worker setting behind each statement timeout, for the error that tells the operator what to raise.
    static func timeoutSetting(_ kind: StatementTimeouts.Kind) -> String {
        switch kind {
        case .query: "worker.query_timeout"
        case .ingest: "worker.ingest_timeout"
        }
    }

    mutating func skipped(_ record: BadRecord) {
        badRecords += 1
        if badRecordList.count < Self.listedBadRecords { badRecordList.append(record.description) }
    }
}

/// A job's records as a stream of good ones: a bad record is counted and skipped, or ends the job, as the job's
/// `on_bad_record` says.
private struct GoodRecords<Item> {
    private var records: any IteratorProtocol<Result<Item, BadRecord>>
    private let onBadRecord: OnBadRecord
    private let outcome: Locked<JobOutcome>

    init(
        _ records: any IteratorProtocol<Result<Item, BadRecord>>, onBadRecord: OnBadRecord,
        outcome: Locked<JobOutcome>
    ) {
        self.records = records
        self.onBadRecord = onBadRecord
        self.outcome = outcome
    }

    mutating func next() throws -> Item? {
        while let record = records.next() {
            switch record {
            case .success(let item):
                return item
            case .failure(let bad):
                guard onBadRecord == .skip else { throw BadRecordError(record: bad) }
                outcome.withLock { $0.skipped(bad) }
            }
        }
        return nil
    }
}

/// A bad record in a job that does not skip them.
struct BadRecordError: Error, CustomStringConvertible {
    var record: BadRecord
    var description: String { "bad record at \(record) (set on_bad_record: skip to count and skip such records)" }
}

/// Runs one job's units over `concurrency` tasks, each unit on a connection leased for that unit only.
struct JobExecution {
    let job: Job
    let counters: JobCounters
    let leases: JobLeases
    let store: MemoryStore
    let concurrency: Int
    let retry: RetryPolicy
    let shutdown: ShutdownRequest

    func run() async -> JobOutcome {
        switch job.kind {
        case .ingest(let spec): await ingest(spec)
        case .query(let spec): await query(spec)
        }
    }

    // MARK: Ingest

    private func ingest(_ spec: IngestSpec) async -> JobOutcome {
        let outcome = Locked(JobOutcome(inserted: 0, duplicates: 0, chunks: 0))
        counters.attach(outcome, source: nil)
        do {
            let records: any Sequence<Result<Message, BadRecord>>
            switch spec.source {
            case .file(let url):
                let reader = try MessageReader(url: url)
                counters.attach(outcome, source: reader.progress)
                records = reader
            case .inline(let messages):
                records = messages.map { .success($0) }
            }
            var good = GoodRecords(records.makeIterator(), onBadRecord: spec.onBadRecord, outcome: outcome)
            var lanes = SessionLanes(lanes: 2 * concurrency, batchSize: spec.batchSize)
            let inFlight = lanes.inFlight
            let feed = WorkFeed<SessionLanes.Batch> {
                try lanes.next { try good.next() }
            }
            let batchDone: @Sendable (SessionLanes.Batch) -> Void = { batch in
                inFlight.withLock { inFlight in
                    for lane in batch.lanes { inFlight[lane] -= 1 }
                }
            }
            try await forEachUnit(of: feed, outcome: outcome, done: batchDone) { task, batch in
                let result = try await leases.withConnection(task: task) { connection in
                    try await store.ingest(
                        batch.messages.map(MemoryMessage.init), maxChunkChars: spec.maxChunkChars, on: connection)
                }
                outcome.withLock { outcome in
                    outcome.items += batch.messages.count
                    outcome.inserted? += result.inserted
                    outcome.duplicates? += result.duplicates
                    outcome.chunks? += result.chunksWritten
                }
            }
        } catch {
            outcome.withLock { $0.fail(error, shuttingDown: shutdown.isRequested) }
        }
        return outcome.withLock { $0 }
    }

    // MARK: Query

    private func query(_ spec: QuerySpec) async -> JobOutcome {
        let outcome = Locked(JobOutcome(hits: 0))
        counters.attach(outcome, source: nil)
        var output: OutputFile?
        do {
            output = try spec.output.map(OutputFile.init)
            for path in output?.removedStale ?? [] {
                Logger(label: "memory-worker.batch").notice(
                    "job \(job.name): removed \(path), the temporary output of a worker that stopped without cleaning up",
                    metadata: ["job": "\(job.name)"]
                )
            }
            let records: any Sequence<Result<QueryItem, BadRecord>>
            switch spec.source {
            case .file(let url):
                let reader = try QueryReader(url: url, defaultUser: spec.user, limits: spec.limits)
                counters.attach(outcome, source: reader.progress)
                records = reader
            case .inline(let items):
                records = items.map { .success($0) }
            }
            var good = GoodRecords(records.makeIterator(), onBadRecord: spec.onBadRecord, outcome: outcome)
            let feed = WorkFeed<QueryItem> { try good.next() }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            try await forEachUnit(of: feed, outcome: outcome) { [output] task, item in
                let hits = try await leases.withConnection(task: task) { connection in
                    try await store.search(
                        user: item.user, query: item.query, topK: spec.topK, budgetChars: spec.budgetChars,
                        on: connection)
                }
                if let output {
                    try output.append(
                        try hits.map { hit in
                            String(
                                decoding: try encoder.encode(QueryResultRecord(job: job.name, item: item, hit: hit)),
                                as: UTF8.self)
                        }
                    )
                }
                outcome.withLock { outcome in
                    outcome.items += 1
                    outcome.hits? += hits.count
                }
            }
            try output?.commit()
        } catch {
            output?.discard()
            outcome.withLock { $0.fail(error, shuttingDown: shutdown.isRequested) }
        }
        return outcome.withLock { $0 }
    }

    // MARK: Fan-out

    /// Runs `unit` for every item of `feed` on `concurrency` tasks, then `done` once per item, whether it (after any
    /// retries) succeeded or not; the first error stops the feed and the other tasks, and is rethrown.
    private func forEachUnit<Item: Sendable>(
        of feed: WorkFeed<Item>,
        outcome: Locked<JobOutcome>,
        done: @escaping @Sendable (Item) -> Void = { _ in },
        _ unit: @escaping @Sendable (Int, Item) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 1...max(1, concurrency) {
                group.addTask { [retry] in
                    let countRetry: (RetryPolicy.Retry) -> Void = { _ in outcome.withLock { $0.retries += 1 } }
                    while !shutdown.isRequested, let item = try feed.take() {
                        defer { done(item) }
                        try Task.checkCancellation()
                        try await retry.run(onRetry: countRetry) {
                            try await unit(task, item)
                        }
                    }
                }
            }
            do {
                try await group.waitForAll()
            } catch {
                feed.stop()
                group.cancelAll()
                throw error
            }
        }
        if shutdown.isRequested, try feed.take() != nil {
            outcome.withLock { $0.interrupted = true }
        }
    }
}

/// One line of a query job's output file.
struct QueryResultRecord: Encodable {
    var job: String
    var user: String
    var query: String
    var rank: Int
    var score: Double
    var session: String
    var messageIDs: [Int]
    var sourceIDs: [String?]
    var positions: [Int]
    var content: String
    var createdAt: Date?

    init(job: String, item: QueryItem, hit: MemoryHit) {
        self.job = job
        user = item.user
        query = item.query
        rank = hit.rank
        score = hit.score
        session = hit.session
        messageIDs = hit.messages.map(\.id)
        sourceIDs = hit.messages.map(\.sourceID)
        positions = hit.messages.map(\.position)
        content = hit.content
        createdAt = hit.createdAt
    }

    enum CodingKeys: String, CodingKey {
        case job, user, query, rank, score, session, positions, content
        case messageIDs = "message_ids"
        case sourceIDs = "source_ids"
        case createdAt = "created_at"
    }
}

extension MemoryMessage {
    init(_ message: Message) {
        self.init(
            user: message.user,
            session: message.session,
            position: message.position,
            role: message.role,
            content: message.content,
            createdAt: message.createdAt,
            sourceID: message.id
        )
    }
}
