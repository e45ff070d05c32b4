/// What a key accepts, stated once so that parsing and the error message cannot disagree.
enum ValueRule: Sendable {
    /// Any text; empty text never gets here because it means "not set".
    case text
    /// An integer in the range; a range up to `Int.max` reads as "at least".
    case wholeNumber(ClosedRange<Int>, zeroMeans: String? = nil)
    /// A number of seconds, fractions allowed, up to `maximum`; zero only when it means something.
    case seconds(zeroMeans: String?, maximum: Int = ValueRule.maximumSeconds)
    /// A number in the range, fractions allowed.
    case decimal(ClosedRange<Double>)
    /// One of a fixed list.
    case choice([String])
    /// Text of at most `maxBytes` UTF-8 bytes; `because` says why, for the message.
    case shortText(maxBytes: Int, because: String)
    /// Text that names a host or a role and nothing else: a URL or `user:secret@host` there would send its password
    /// out as a name, which libpq and the server then quote in their errors.
    case name(String)
    /// A name the memory store writes into DDL: a plain lower-case SQL identifier, which needs no quoting and which
    /// PostgreSQL does not cut.
    case identifier

    /// libpq's `sslmode` values.
    static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    /// PostgreSQL cannot accept more connections than this (`MAX_BACKENDS`), so larger pools are typos.
    static let maximumConnections = 262_143

    /// A year. Longer waits are typos, and capping keeps deadline arithmetic far from overflow.
    static let maximumSeconds = 31_536_000

    /// PostgreSQL cuts identifiers longer than this many bytes (`NAMEDATALEN - 1`).
    static let maximumIdentifierBytes = 63

    /// The phrase after "expected" in an error message.
    var expected: String {
        switch self {
        case .text:
            return "text"
        case .wholeNumber(let range, let zeroMeans):
            let zero = zeroMeans.map { "; 0 = \($0)" } ?? ""
            if range.upperBound == Int.max { return "a whole number of at least \(range.lowerBound)\(zero)" }
            return "a whole number from \(range.lowerBound) to \(range.upperBound)\(zero)"
        case .seconds(let zeroMeans?, let maximum):
            return "a number of seconds from 0 to \(maximum), fractions allowed; 0 = \(zeroMeans)"
        case .seconds(nil, let maximum):
            return "a number of seconds greater than 0 and at most \(maximum), fractions allowed"
        case .decimal(let range):
            return
                "a number from \(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound)), fractions allowed"
        case .choice(let choices):
            return "one of \(choices.joined(separator: ", "))"
        case .shortText(let maxBytes, let because):
            return "text of at most \(maxBytes) bytes (\(because))"
        case .name(let what):
            return "\(what) alone, not a URL or user:password@host: put a URL in DATABASE_URL (or url: in the config "
                + "file), and a user and password in their own keys"
        case .identifier:
            return "a plain lower-case identifier ([a-z_][a-z0-9_]*, at most \(Self.maximumIdentifierBytes) "
                + "characters)"
        }
    }
}
