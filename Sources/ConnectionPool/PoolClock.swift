/// Where the pool reads the time and waits for its timer: `ContinuousClock` in production, a clock moved by hand in
/// tests, so that every timer of the pool (acquire timeout, idle timeout, recycle, leak warning, connect backoff,
/// drain) fires when the test says and no test sleeps for one.
package protocol PoolClock: Sendable {
    var now: ContinuousClock.Instant { get }
    /// Returns at `deadline`; throws `CancellationError` if the task is cancelled first.
    func wait(until deadline: ContinuousClock.Instant) async throws
}

extension ContinuousClock: PoolClock {
    package func wait(until deadline: Instant) async throws {
        try await sleep(until: deadline, tolerance: nil)
    }
}
