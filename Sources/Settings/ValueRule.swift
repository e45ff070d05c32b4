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
    /// Text of at most `maxBytes` UTF-8 bytes; `because` says why, for the message.
    case shortText(maxBytes: Int, because: String)
    /// Text that names a host or a role and nothing else: a URL or `user:secret@host` there would send its password
    /// out as a name, which libpq and the server then quote in their errors.
    case name(String)

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
        case .shortText(let maxBytes, let because):
            return "text of at most \(maxBytes) bytes (\(because))"
        case .name(let what):
            return "\(what) alone, not a URL or user:password@host: put a URL in DATABASE_URL (or url: in the config "
                + "file), and a user and password in their own keys"
        }
    }
}

extension SettingKey {
    /// What this key accepts.
    var rule: ValueRule {
        switch self {
        case .url, .database, .password, .sslrootcert: .text
        // The server cuts a longer name and says so in a notice that libpq prints before the worker can catch it,
        // name and all; a cut name would also escape the counts that look for it.
        case .applicationName:
            .shortText(
                maxBytes: 55,
                because: "PostgreSQL keeps 63 bytes of an application_name, and the worker's own monitor connections "
                    + "add -monitor to it")
        case .host: .name("a host name, IP address or socket folder")
        case .user: .name("a role name")
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
