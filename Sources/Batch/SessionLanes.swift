import Jobs
import Postgres

/// Cuts an ingest job's messages into batches by session, in lanes, so that the batches running at one time touch
/// different sessions.
///
/// Why: the store holds a lock on each of a batch's sessions until the batch commits, and sources list a session's
/// messages together, so batches cut in file order share a session with the next one. Run side by side, each waited
/// for the one before it, which made the job nearly serial; and when a later batch took the lock first, the earlier
/// one's messages landed before chunks already written, which were then rebuilt.
///
/// Each session belongs to one lane (a hash of user and session), and a lane's batches go out one at a time, in
/// source order, while the other lanes' batches run beside it. Memory stays bounded: a lane whose batch is still
/// running gathers at most two batches' worth before one is handed out anyway (the session locks keep that correct,
/// only slower), and at the end of the source what is left goes out as it is.
struct SessionLanes {
    /// A batch, with the lane to report back through ``inFlight`` when it is done.
    struct Batch: Sendable {
        var lane: Int
        var messages: [Message]
    }

    private var pending: [[Message]]
    private let batchSize: Int
    private var sourceEnded = false
    /// Batches of each lane handed out and not yet done; the tasks decrement their lane's count when a batch ends.
    let inFlight: Locked<[Int]>

    init(lanes: Int, batchSize: Int) {
        pending = Array(repeating: [], count: max(1, lanes))
        self.batchSize = max(1, batchSize)
        inFlight = Locked(Array(repeating: 0, count: max(1, lanes)))
    }

    /// The next batch: reads messages from `read` (nil at the end of the source) until a lane with nothing in flight
    /// has a full batch, or one lane holds two. Nil when the source is done and every lane is empty.
    mutating func next(reading read: () throws -> Message?) rethrows -> Batch? {
        while true {
            let inFlight = self.inFlight.withLock { $0 }
            let ready =
                pending.indices.first { inFlight[$0] == 0 && pending[$0].count >= batchSize }
                ?? pending.indices.first { pending[$0].count >= 2 * batchSize }
            if let lane = ready { return take(lane) }
            if sourceEnded {
                // What is left, idle lanes first.
                let left = pending.indices.filter { !pending[$0].isEmpty }
                guard let lane = left.min(by: { inFlight[$0] < inFlight[$1] }) else { return nil }
                return take(lane)
            }
            guard let message = try read() else {
                sourceEnded = true
                continue
            }
            pending[lane(of: message)].append(message)
        }
    }

    private mutating func take(_ lane: Int) -> Batch {
        let count = min(batchSize, pending[lane].count)
        let messages = Array(pending[lane].prefix(count))
        pending[lane].removeFirst(count)
        inFlight.withLock { $0[lane] += 1 }
        return Batch(lane: lane, messages: messages)
    }

    /// FNV-1a over user and session: the same lanes on every run, unlike `Hasher`, which is seeded per process.
    private func lane(of message: Message) -> Int {
        var hash = message.user.utf8.reduce(0xcbf2_9ce4_8422_2325, Self.fnv1a)
        hash = Self.fnv1a(hash, 0x1F)
        hash = message.session.utf8.reduce(hash, Self.fnv1a)
        return Int(hash % UInt64(pending.count))
    }

    private static func fnv1a(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }
}
