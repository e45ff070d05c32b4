import Glibc

/// This machine's name as `hostname` prints it, for the queue's records of who enqueued, claimed and ran what.
///
/// `gethostname`, not Foundation's `ProcessInfo.hostName`, which may resolve the name through DNS: a blocking call
/// that a task must not make, and one that can take seconds when the resolver is slow.
public func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
