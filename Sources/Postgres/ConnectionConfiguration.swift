import CLibPQ
import Foundation

/// Where and how to connect: libpq connection keywords plus the few choices this library makes on top.
///
/// Values go to libpq as keyword/value arrays (`PQconnectdbParams`), never pasted into a conninfo string, so a value
/// such as `localhost dbname=other` stays one value. Keywords that are not given fall back to libpq's own defaults,
/// which include the `PG*` environment variables, `~/.pgpass` and the service file.
public struct ConnectionConfiguration: Sendable {
    /// libpq keywords and their values, in the order given.
    private(set) var parameters: [(keyword: String, value: String)]

    /// Reuse named prepared statements per connection. A connection that finds a pooler between it and the server
    /// runs its statements unnamed whatever this says (``PostgresConnection/throughPooler``).
    public var usePreparedStatements = true

    /// The target is a connection pooler's admin console (PgBouncer's database `pgbouncer`), which runs only its own
    /// commands (`SHOW …`) through the simple query protocol: opening the connection asks it nothing.
    public var isPoolerConsole = false

    /// How long a query may take to end after its cancel request before the connection is declared broken.
    var cancelTimeout: Duration = .seconds(10)

    /// The `application_name` used when neither the parameters nor `PGAPPNAME` name one, so the server can tell this
    /// program's connections apart.
    public static let defaultApplicationName = "memory-worker"

    /// Seconds libpq waits for a connection when neither the parameters nor `PGCONNECT_TIMEOUT` say; libpq's own
    /// default is to wait forever.
    public static let defaultConnectTimeout = "10"

    /// Parses a `postgresql://` URL or a `key=value` conninfo string with libpq's own parser.
    public init(_ urlOrConninfo: String) throws(PostgresConnectionError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(urlOrConninfo, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "out of memory"
            PQfreemem(errorMessage)
            let (shown, hidden) = Redaction.maskUnparsed(urlOrConninfo)
            let libpqReason = Redaction.scrub(reason.trimmingCharacters(in: .whitespacesAndNewlines), hiding: hidden)
            throw PostgresConnectionError(
                kind: .invalidConfiguration,
                message: "invalid connection string '\(shown)': \(libpqReason)",
                target: shown
            )
        }
        defer { PQconninfoFree(options) }
        var parameters: [(keyword: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parameters.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        self.parameters = parameters
    }

    /// Uses the given libpq keywords as they are.
    public init(parameters: [(keyword: String, value: String)]) {
        self.parameters = parameters
    }

    /// The value of a libpq keyword, if given; setting `nil` removes it.
    public subscript(keyword: String) -> String? {
        get { parameters.last(where: { $0.keyword == keyword })?.value }
        set {
            parameters.removeAll { $0.keyword == keyword }
            if let newValue { parameters.append((keyword, newValue)) }
        }
    }

    /// The parameters handed to libpq: the given ones plus this library's defaults, which the environment can override.
    var effectiveParameters: [(keyword: String, value: String)] {
        var result = parameters
        let environment = ProcessInfo.processInfo.environment
        if self["application_name"] == nil, self["fallback_application_name"] == nil {
            result.append(("fallback_application_name", Self.defaultApplicationName))
        }
        if self["connect_timeout"] == nil, environment["PGCONNECT_TIMEOUT"] == nil {
            result.append(("connect_timeout", Self.defaultConnectTimeout))
        }
        // Row decoding reads text as UTF-8; an explicit client_encoding of anything else would corrupt it.
        result.removeAll { $0.keyword == "client_encoding" }
        result.append(("client_encoding", "UTF8"))
        return result
    }

    /// The passwords this configuration sends: the `password` and `sslpassword` keywords and `PGPASSWORD`.
    var passwords: [String] {
        [self["password"], self["sslpassword"], ProcessInfo.processInfo.environment["PGPASSWORD"]].compactMap { $0 }
    }

    /// Everything ``redact(_:)`` hides: the passwords, and those that other values seem to carry, given here or by
    /// libpq's defaults (environment, service file), such as a user `name:secret` or a host `user:secret@host`,
    /// which libpq and the server quote back in their errors.
    var secrets: [String] {
        let values = parameters + Self.libpqDefaults().map { (keyword: $0.key, value: $0.value) }
        // A password is hidden whole; the user info a password may contain (`p:w@rd`) is no second one.
        return passwords
            + values.filter { !$0.keyword.hasSuffix("password") }.flatMap {
                Redaction.apparentSecrets(in: $0.value, keyword: $0.keyword)
            }
    }

    /// Masks any password of this configuration in `text`.
    public func redact(_ text: String) -> String {
        Redaction.redact(text, secrets: secrets)
    }

    /// The database this configuration reaches, as `postgresql://user:***@host:port/database`, with libpq's defaults
    /// (environment included) filled in; the password is always masked.
    public var maskedURL: String {
        let target = effectiveTarget
        return Self.maskedURL(
            user: target.user,
            host: target.host,
            port: target.port,
            database: target.database,
            hasPassword: target.hasPassword
        )
    }

    /// Where a connection will go once libpq fills in its defaults (environment included): what identifies a database.
    public struct Target: Sendable, Hashable {
        public var host: String
        public var port: String
        public var database: String
        public var user: String
        var hasPassword: Bool
    }

    /// The host, port, database and user libpq will use, defaults and `PG*` variables applied (`PQconndefaults`).
    public var effectiveTarget: Target {
        let defaults = Self.libpqDefaults()
        func value(_ keyword: String) -> String? {
            if let given = self[keyword], !given.isEmpty { return given }
            return defaults[keyword]
        }
        let user = value("user") ?? ""
        return Target(
            host: value("host") ?? value("hostaddr") ?? "",
            port: value("port") ?? "",
            database: value("dbname") ?? user,
            user: user,
            hasPassword: value("password") != nil || !passwords.isEmpty
        )
    }

    /// `postgresql://user:***@host:port/database`, with `:***` only when a password is involved.
    ///
    /// Each part is masked before it is percent-encoded, since encoding hides a password from every later mask: a
    /// user `name:secret` becomes `name%3Asecret`.
    static func maskedURL(user: String?, host: String?, port: String?, database: String?, hasPassword: Bool) -> String {
        func shown(_ value: String?, _ keyword: String) -> String {
            percentEncodedComponent(Redaction.maskValue(value ?? "", keyword: keyword))
        }
        var url = "postgresql://"
        if let user, !user.isEmpty {
            url += shown(user, "user")
            if hasPassword { url += ":" + Redaction.mask }
            url += "@"
        }
        url += shown(host, "host")
        if let port, !port.isEmpty { url += ":" + shown(port, "port") }
        // libpq's database defaults to the user name, and then carries the same password.
        let database = database ?? user
        url += "/" + shown(database, database == user ? "user" : "dbname")
        return url
    }

    /// libpq's defaults for every keyword, environment included (`PQconndefaults`).
    private static func libpqDefaults() -> [String: String] {
        guard let options = PQconndefaults() else { return [:] }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { result[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return result
    }

    private static func percentEncodedComponent(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: .urlHostAllowed.subtracting(CharacterSet(charactersIn: "/@:")))
            ?? text
    }
}

extension ConnectionConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The masked URL: printing, interpolating or dumping a configuration never shows its password.
    public var description: String { maskedURL }

    public var debugDescription: String { "ConnectionConfiguration(\(maskedURL))" }

    public var customMirror: Mirror { Mirror(self, children: ["target": maskedURL]) }
}
