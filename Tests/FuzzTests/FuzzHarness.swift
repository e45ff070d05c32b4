import Foundation
import Support
import Testing

/// SplitMix64: tiny, fast and fully deterministic on every platform, so a seed reproduces a case anywhere.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// SplitMix64's finalizer: spreads every input bit over the output, to derive independent seeds.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `range`.
    mutating func int(_ range: Range<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool {
        int(0..<100) < percent
    }

    mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[int(0..<elements.count)]
    }
}

/// What every fuzz test shares: the seed, the per-case generators, a hang watchdog, and the findings.
///
/// Each case draws from its own generator, derived from the seed, the kind of input and the case number, so one case
/// can be replayed without running the ones before it: `FUZZ_SEED=S FUZZ_REPRO=kind:N swift test --filter FuzzTests`
/// runs only case N of that kind and prints its input. The seed is fixed unless `FUZZ_SEED` (decimal or 0x-hex) sets
/// another, so the suite is deterministic in CI and can still explore new ground on demand.
final class FuzzRun {
    static let defaultSeed: UInt64 = 0x6D65_6D6F_7279_2D77  // "memory-w"

    /// The seed of this run.
    static let seed: UInt64 = {
        guard let text = ProcessInfo.processInfo.environment["FUZZ_SEED"]?.lowercased() else { return defaultSeed }
        if text.hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16) { return value }
        return UInt64(text) ?? defaultSeed
    }()

    /// `kind:N` from `FUZZ_REPRO`, when one case is to be replayed.
    static let repro: (kind: String, index: Int)? = {
        guard let text = ProcessInfo.processInfo.environment["FUZZ_REPRO"] else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let index = Int(parts[1]) else { return nil }
        return (String(parts[0]), index)
    }()

    let kind: String
    let cases: Int
    let folder: URL
    private(set) var findings = Findings()
    /// The slowest cases so far, slowest first, with what was done to their input.
    private(set) var slowest: [(index: Int, time: Duration, label: String)] = []
    private let watchdog: Watchdog

    init(kind: String, cases: Int) throws {
        self.kind = kind
        self.cases = cases
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(kind)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        watchdog = Watchdog(kind: kind)
    }

    deinit {
        watchdog.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// The case numbers to run: all of them, or the one `FUZZ_REPRO` names (none when it names another kind).
    var indices: [Int] {
        guard let repro = Self.repro else { return Array(0..<cases) }
        return repro.kind == kind ? [repro.index] : []
    }

    var isRepro: Bool { Self.repro?.kind == kind }

    /// The generator of case `index`.
    func generator(for index: Int) -> SplitMix64 {
        var salt: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in kind.utf8 { salt = (salt ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return SplitMix64(seed: SplitMix64.mix(Self.seed ^ SplitMix64.mix(salt &+ UInt64(index))))
    }

    /// How to replay case `index`, for messages.
    func reproduction(_ index: Int) -> String {
        "FUZZ_SEED=0x\(String(Self.seed, radix: 16)) FUZZ_REPRO=\(kind):\(index) swift test --filter FuzzTests"
    }

    /// Runs the cases one by one, each with its own mutations; returns how long they took, for ``summary``.
    ///
    /// Cases are synchronous; yielding between them lets other tests of a plain `swift test` have their turn
    /// (`make test` runs this suite alone).
    func forEachCase(_ body: (_ index: Int, _ mutations: inout Mutations) throws -> Void) async rethrows -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        for index in indices {
            await Task.yield()
            var mutations = Mutations(generator(for: index))
            try body(index, &mutations)
        }
        return clock.now - start
    }

    /// Runs `body` as case `index` under the watchdog. Its time is only reported (the slowest cases, with `label`
    /// saying what was done to the input): tests assert outcomes, never timings; a hang names itself through the
    /// watchdog.
    func run(_ index: Int, label: @autoclosure () -> String, _ body: () throws -> Void) rethrows {
        let clock = ContinuousClock()
        watchdog.begin(index)
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        watchdog.end()
        if slowest.count < 3 || elapsed > slowest[slowest.count - 1].time {
            slowest.append((index, elapsed, label()))
            slowest.sort { $0.time > $1.time }
            if slowest.count > 3 { slowest.removeLast() }
        }
    }

    /// Records that case `index` broke a rule. The first few cases per rule become test issues with the seed and
    /// case number; the rest are only counted, so one bug does not bury the others.
    func report(_ index: Int, _ rule: String, _ detail: String, input: [UInt8]? = nil) {
        let count = findings.add(rule)
        guard count <= Findings.issuesPerRule else { return }
        var message = "[\(kind) case \(index), seed 0x\(String(Self.seed, radix: 16))] \(rule): \(detail)"
        if let input { message += "\ninput: \(Self.show(input))" }
        message += "\nreplay: \(reproduction(index))"
        Issue.record(Comment(rawValue: message))
    }

    /// `bytes` as readable text: printable text as is, control characters as `\u{…}`, bytes that are not UTF-8 as
    /// `\xNN`, long input shortened.
    static func show(_ bytes: [UInt8], limit: Int = 600) -> String {
        var text = ""
        let shown = Array(bytes.prefix(limit))
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = shown.makeIterator()
        var offset = 0
        parsing: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                offset += encoded.count
                let scalar = Unicode.UTF8.decode(encoded)
                switch scalar {
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                default:
                    text +=
                        scalar.value < 0x20 || scalar.value == 0x7F
                        ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
                }
            case .error(let length):
                for byte in shown[offset..<offset + length] { text += "\\x" + String(format: "%02X", byte) }
                offset += length
            case .emptyInput:
                break parsing
            }
        }
        return bytes.count > limit ? text + "… (\(bytes.count) bytes)" : text
    }

    /// One line for the log: seed, counts, timing, findings.
    func summary(elapsed: Duration, counts: [String: Int]) -> String {
        let details = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var line =
            "fuzz \(kind): seed 0x\(String(Self.seed, radix: 16)), \(indices.count) cases in \(elapsed) "
            + "(slowest: \(slowest.map { "case \($0.index) \($0.time) [\($0.label)]" }.joined(separator: "; "))); \(details)"
        if !findings.byRule.isEmpty {
            line +=
                "; FINDINGS: "
                + findings.byRule.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        }
        return line
    }
}

/// Rule violations, counted by rule.
struct Findings {
    static let issuesPerRule = 3
    private(set) var byRule: [String: Int] = [:]

    /// Counts one more violation of `rule`; returns how many there are now.
    mutating func add(_ rule: String) -> Int {
        byRule[rule, default: 0] += 1
        return byRule[rule]!
    }
}

/// Prints which case is running when one runs far longer than any should, so a real hang names its case in the log
/// before CI's timeout kills the process.
final class Watchdog: Sendable {
    private struct State {
        var index: Int?
        var start = ContinuousClock.now
        var warned = false
        var stopped = false
    }

    private let state = Locked(State())
    static let warnAfter: Duration = .seconds(10)

    init(kind: String) {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.25)
                let (stop, hung): (Bool, (Int, Duration)?) = self.state.withLock { state in
                    guard !state.stopped else { return (true, nil) }
                    guard let index = state.index, !state.warned else { return (false, nil) }
                    let elapsed = ContinuousClock.now - state.start
                    guard elapsed > Self.warnAfter else { return (false, nil) }
                    state.warned = true
                    return (false, (index, elapsed))
                }
                if stop { return }
                if let (index, elapsed) = hung {
                    FileHandle.standardError.write(
                        Data("fuzz \(kind): case \(index) has been running for \(elapsed); hang?\n".utf8))
                }
            }
        }
        thread.start()
    }

    func begin(_ index: Int) {
        state.withLock { $0 = State(index: index, start: .now) }
    }

    func end() {
        state.withLock { $0.index = nil }
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }
}

/// Writes `contents` to `path`, replacing the file; a failure is an issue, since every check after it would be moot.
///
/// A plain write, not `FileManager.createFile`, which writes atomically through a temporary file and costs
/// milliseconds a case, more than the parsing under test.
func writeFile(atPath path: String, contents: Data) {
    do {
        try contents.write(to: URL(fileURLWithPath: path))
    } catch {
        Issue.record("cannot write \(path): \(error)")
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// Checks on the text of an error message, shared by every kind of input.
enum MessageRules {
    /// A message longer than this is not read by anyone; values in messages must be shortened.
    static let maximumLength = 2_000

    /// What is wrong with `message` as one line of an error report, or nil: a short rule name and the detail.
    static func problem(_ message: String) -> (rule: String, detail: String)? {
        if message.isEmpty { return ("empty message", "the message is empty") }
        if let bad = message.unicodeScalars.first(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            return (
                "raw control character in message",
                "U+\(String(format: "%04X", bad.value)) appears unescaped, so the message is not one readable line"
            )
        }
        if message.utf8.count > maximumLength {
            return (
                "overlong message",
                "\(message.utf8.count) bytes (over \(maximumLength)): a value is quoted without being shortened"
            )
        }
        return nil
    }
}
