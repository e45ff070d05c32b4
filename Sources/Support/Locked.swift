import Glibc

/// A value guarded by a pthread mutex.
///
/// Not `Synchronization.Mutex`: on Linux its locking lives in the runtime library, which ThreadSanitizer does not
/// instrument, so every access it guards shows up as a race and the TSan pass of `make test` would be noise. A pthread
/// mutex is intercepted by ThreadSanitizer, which keeps that pass meaningful.
///
/// `@unchecked Sendable`: `value` is read and written only inside `withLock`, while `mutex` is held.
public final class Locked<Value: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
