/// What a key accepts, stated once so that parsing and the error message cannot disagree.
enum ValueRule {
    /// Any text; empty text never gets here because it means "not set".
    case text
    /// An integer in the range.
    case wholeNumber(ClosedRange<Int>, zeroMeans: String? = nil)
    /// A number of seconds, fractions allowed, up to `maximumSeconds`; zero only when it means something.
    case seconds(zeroMeans: String?)
    /// One of a fixed list.
    case choice([String])

    /// libpq's `sslmode` values.
    static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    /// PostgreSQL cannot accept more connections than this (`MAX_BACKENDS`), so larger pools are typos.
    static let maximumConnections = 262_143

    /// A year. Longer waits are typos, and capping keeps deadline arithmetic far from overflow.
    static let maximumSeconds = 31_536_000

    /// The phrase after "expected" in an error message.
    var expected: String {
        switch self {
        case .text:
            return "text"
        case .wholeNumber(let range, let zeroMeans):
            let zero = zeroMeans.map { "; 0 = \($0)" } ?? ""
            return "a whole number from \(range.lowerBound) to \(range.upperBound)\(zero)"
        case .seconds(let zeroMeans?):
            return "a number of seconds from 0 to \(Self.maximumSeconds), fractions allowed; 0 = \(zeroMeans)"
        case .seconds(nil):
            return "a number of seconds greater than 0 and at most \(Self.maximumSeconds), fractions allowed"
        case .choice(let choices):
            return "one of \(choices.joined(separator: ", "))"
        }
    }
}

extension SettingKey {
    /// What this key accepts.
    var rule: ValueRule {
        switch self {
        case .url, .host, .database, .user, .password, .sslrootcert, .applicationName: .text
        case .port: .wholeNumber(1...65_535)
        case .sslmode: .choice(ValueRule.sslModes)
        case .connectionTimeout: .wholeNumber(0...ValueRule.maximumSeconds, zeroMeans: "wait forever")
        // Linux's limits for TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT; libpq would fail at connect time instead.
        case .keepalivesIdle, .keepalivesInterval: .wholeNumber(1...32_767)
        case .keepalivesCount: .wholeNumber(1...127)
        case .preparedStatements: .choice(["true", "false"])
        case .poolSize, .maxOverflow: .wholeNumber(0...ValueRule.maximumConnections)
        case .poolTimeout: .seconds(zeroMeans: nil)
        case .poolRecycle: .seconds(zeroMeans: "never recycle")
        case .idleTimeout: .seconds(zeroMeans: "never close idle connections")
        case .leakThreshold: .seconds(zeroMeans: "no leak warnings")
        }
    }
}
