/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast generator whose output is fixed by its seed.
///
/// The generator is ours rather than `SystemRandomNumberGenerator` (unseeded) or the standard library's
/// `random(in:using:)` helpers, whose algorithms may change between Swift releases: sample data must come out
/// byte-identical from the same seed on every machine and toolchain, or benchmarks and fixtures drift.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// A generator for one part of the data (a user, a session), independent of how much other parts consumed.
    public init(seed: UInt64, stream: UInt64...) {
        var mixed = seed
        for part in stream {
            mixed = Self.mix(mixed ^ Self.mix(part &+ 0x9E37_79B9_7F4A_7C15))
        }
        state = mixed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// A uniformly distributed value in `0..<bound` (Lemire's multiply-shift with rejection); 0 when `bound` is 0.
    public mutating func next(below bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let range = UInt64(bound)
        let threshold = (0 &- range) % range
        while true {
            let (high, low) = next().multipliedFullWidth(by: range)
            if low >= threshold { return Int(high) }
        }
    }

    /// A uniformly distributed value in `range`.
    public mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + next(below: range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `percent`/100.
    mutating func chance(_ percent: Int) -> Bool {
        next(below: 100) < percent
    }

    /// One element of a non-empty array (the word lists and templates, all constants).
    mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[next(below: elements.count)]
    }

    /// SplitMix64's output function: a bijective scramble of 64 bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
