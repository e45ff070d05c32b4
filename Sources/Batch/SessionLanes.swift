import Jobs
import Postgres
import Support

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
/// only slower), and at the end of the source what is left goes out as it is. Give it about twice as many lanes as
/// tasks: with one lane per task, a task that asks for work finds only its own lane idle, and while it is being
/// filled a busy lane often reaches two batches (117 of 400 batches in the bench's ingest); with two per task, 6.
struct SessionLanes {
    /// A batch, with the lanes its messages came from, to report back through ``inFlight`` when it is done.
    struct Batch: Sendable {
        var lanes: [Int]
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
            if let lane = ready { return take(from: [lane]) }
            if sourceEnded {
                // What is left: the idle lanes' messages together, so a small source is not cut into a batch per
                // lane; then the busy lanes', each on its own.
                let idle = pending.indices.filter { inFlight[$0] == 0 && !pending[$0].isEmpty }
                guard idle.isEmpty else { return take(from: idle) }
                guard let lane = pending.indices.first(where: { !pending[$0].isEmpty }) else { return nil }
                return take(from: [lane])
            }
            guard let message = try read() else {
                sourceEnded = true
                continue
            }
            pending[lane(of: message)].append(message)
        }
    }

    /// Up to a batch of messages from `lanes`, in that order, each lane's in source order.
    private mutating func take(from lanes: [Int]) -> Batch {
        var batch = Batch(lanes: [], messages: [])
        for lane in lanes where batch.messages.count < batchSize {
            let count = min(batchSize - batch.messages.count, pending[lane].count)
            batch.messages += pending[lane].prefix(count)
            pending[lane].removeFirst(count)
            batch.lanes.append(lane)
        }
        inFlight.withLock { inFlight in
            for lane in batch.lanes { inFlight[lane] += 1 }
        }
        return batch
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
