import Foundation

/// Hands out a job's work units one at a time to the job's tasks, reading the source as they ask.
///
/// Tasks pull instead of a producer pushing, so at most `concurrency` units are in memory at once, whatever the
/// source's size. `@unchecked Sendable`: the iterator and `finished` are touched only while `lock` (an `NSLock`)
/// is held; the iterator itself is not thread-safe, which is why it is behind the lock.
final class WorkFeed<Item: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var next: () throws -> Item?
    private var finished = false

    /// `next` returns the next unit, nil at the end, or throws to end the job (a bad record it must not skip).
    init(_ next: @escaping () throws -> Item?) {
        self.next = next
    }

    /// The next unit; nil once the source is exhausted, failed, or ``stop()`` was called.
    func take() throws -> Item? {
        lock.lock()
        defer { lock.unlock() }
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

    /// Ends the feed: tasks finish the unit they have and take no more.
    func stop() {
        lock.lock()
        finished = true
        lock.unlock()
    }
}
