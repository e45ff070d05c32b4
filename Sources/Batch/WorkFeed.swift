import Support

/// Hands out a job's work units one at a time to the job's tasks, reading the source as they ask.
///
/// Tasks pull instead of a producer pushing, so at most `concurrency` units are in memory at once, whatever the
/// source's size.
///
/// `@unchecked Sendable`: `next` advances an iterator that is not thread-safe, so it is called only inside
/// `finished.withLock`, one task at a time.
final class WorkFeed<Item: Sendable>: @unchecked Sendable {
    /// Whether the source is exhausted, failed, or ``stop()`` was called; its lock also serializes `next`.
    private let finished = Locked(false)
    private let next: () throws -> Item?

    /// `next` returns the next unit, nil at the end, or throws to end the job (a bad record it must not skip).
    init(_ next: @escaping () throws -> Item?) {
        self.next = next
    }

    /// The next unit; nil once the source is exhausted, failed, or ``stop()`` was called.
    func take() throws -> Item? {
        try finished.withLock { finished in
            guard !finished else { return nil }
            do {
                guard let item = try next() else {
                    finished = true
                    return nil
                }
                return item
            } catch {
                finished = true
                throw error
            }
        }
    }

    /// Ends the feed: tasks finish the unit they have and take no more.
    func stop() {
        finished.withLock { $0 = true }
    }
}
