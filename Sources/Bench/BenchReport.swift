import Foundation

/// Everything one run measured, as written to `bench-results/bench-<timestamp>.json`; a section is absent when its
/// item was skipped (`skipped`) or failed (`errors`, keyed by item).
struct BenchReport: Codable, Sendable {
    var startedAt: Date
    var finishedAt: Date?
    var durationS: Double?
    var machine: MachineInfo?
    /// Load averages after the last measurement, which include the bench's own work.
    var loadAverageAtEnd: [Double] = []
    var poolRoundTrip: RoundTripResult?
    var scaling: ScalingResult?
    var nonBlocking: NonBlockingResult?
    var ingest: IngestResult?
    var query: QueryResult?
    var memory: MemoryResult?
    var retrieval: RetrievalResult?
    var queue: QueueResult?
    var skipped: [String] = []
    var errors: [String: String] = [:]

    /// Pretty-printed, snake_case keys, ISO 8601 times.
    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }
}
