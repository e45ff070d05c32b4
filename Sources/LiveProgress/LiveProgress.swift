import Batch
import Foundation
import LogOutput
import Support

/// One live line per running job on stderr, for a terminal: items done and their rate, and for a file source the
/// share of its bytes read and the time left at that pace. Redrawn a few times a second below the logs
/// (``StandardError``), and erased when the batch ends.
public final class LiveProgress: Sendable {
    private struct Running {
        var job: String
        var counters: JobCounters
        var started: ContinuousClock.Instant
    }

    private let running = Locked<[Running]>([])

    public init() {}

    /// The batch's progress callback (``BatchRunner/Options/progress``): a job's line appears when it starts and
    /// goes when it ends.
    @Sendable public func observe(_ progress: BatchRunner.Progress) {
        switch progress {
        case .started(let job, _, let counters):
            running.withLock { $0.append(Running(job: job, counters: counters, started: .now)) }
        case .finished(let job, _, _, _):
            running.withLock { $0.removeAll { $0.job == job } }
        }
        redraw()
    }

    /// Redraws every `interval` until the task is cancelled, then erases the lines.
    public func refresh(every interval: Duration = .milliseconds(250)) async {
        while (try? await Task.sleep(for: interval)) != nil {
            redraw()
        }
        StandardError.clear()
    }

    private func redraw() {
        let now = ContinuousClock.now
        let lines = running.withLock { $0 }.map { job in
            let source = job.counters.source
            return Self.line(
                job: job.job, items: job.counters.items, elapsed: (now - job.started).seconds,
                bytes: source.map { (read: $0.bytesRead, total: $0.totalBytes) })
        }
        StandardError.show(lines)
    }

    /// `load: 500 item(s), 100/s, 25% of 2.0 MB read, ETA 0:15`: the time left assumes the pace so far.
    static func line(job: String, items: Int, elapsed: Double, bytes: (read: Int64, total: Int64)?) -> String {
        var line = "\(job): \(items) item(s)"
        if elapsed > 0 { line += ", \(Int((Double(items) / elapsed).rounded()))/s" }
        if let (read, total) = bytes, total > 0 {
            let share = Double(min(read, total)) / Double(total)
            line += ", \(Int((share * 100).rounded(.down)))% of \(megabytes(total)) read"
            if share > 0, share < 1 {
                line += ", ETA \(clock(elapsed * (1 - share) / share))"
            }
        }
        return line
    }

    private static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }

    /// `m:ss`, or `h:mm:ss` from an hour.
    private static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.up))
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }
}
