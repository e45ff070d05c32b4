import Diagnostics
import Foundation
import Postgres

/// Where and how to connect: the highest-priority URL as the base, refined by discrete keys.
///
/// How a URL and discrete keys (`host`, `port`, …) combine:
///
/// 1. The URL of the highest rung (any layer's `url`, `database.url`, `DATABASE_URL`) is the base.
/// 2. A discrete key from the URL's rung or a higher one overrides that part of the URL (`DATABASE_POSTGRES_HOST`
///    beside `DATABASE_URL`; any `POSTGRES_*` variable over a `url` in the file).
/// 3. A discrete key from a lower rung is ignored if it names the target (host, port, database, user, password):
///    the URL names the database as a whole, so a development `postgres.host` in `config.yaml` cannot redirect a
///    production `DATABASE_URL`, and one source's password is never sent to another source's server. A lower-rung
///    option (sslmode, application_name, connection_timeout, keepalives_*) fills in what the URL leaves unset, so
///    `sslmode: require` in the file still holds for a URL from the environment.
///
/// `worker config` shows the outcome per key: `from url`, `overrides url`, or `… ignored` next to the URL's source.
struct ConnectionResolution {
    var configuration: ConnectionConfiguration
    var entries: [Setting]
    var warnings: [String] = []
    /// Whether anything names a server (a URL or a host, or libpq's own `PGHOST`, `PGPORT`, `PGDATABASE` or
    /// `PGSERVICE`), as opposed to libpq's defaults.
    var databaseConfigured: Bool

    /// libpq's variables that point it at a database by themselves: `make run` must not start a private server over
    /// a user's `PGHOST=db.example.com`.
    static let libpqTargetVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE"]

    init(lookup: SettingLookup, environment: [String: String], problems: inout [SettingsError.Problem]) {
        let url = lookup.candidates(for: .url).first
        let base = url.map { Self.parse($0, problems: &problems) } ?? ConnectionConfiguration(parameters: [])
        configuration = base
        entries = [
            Setting(
                key: SettingKey.url.rawValue, value: url.map { Masking.maskedURL($0.value) },
                source: url?.source ?? .default)
        ]
        databaseConfigured =
            url != nil || !lookup.candidates(for: .host).isEmpty
            || Self.libpqTargetVariables.contains { environment[$0]?.isEmpty == false }
        var keepalives = false
        for key in SettingKey.connectionKeys {
            let urlPart = base[key.libpqKeyword]
            let best = lookup.candidates(for: key).first
            if let url, let urlPart, best.map({ $0.position > url.position }) ?? true {
                // The URL supplies this part; check it like a discrete value, since libpq only would at connect time.
                // Without an `@`, `scheme://user:secret host` reads the secret as the host or port, so a part that
                // fails its check shows the URL masked instead of itself.
                let part = RawSetting(
                    key: key, value: urlPart, keyPath: "\(url.keyPath) (\(key.rawValue))", source: url.source,
                    position: url.position,
                    shown: Masking.hasUserInfo(url.value) ? nil : Redaction.maskUnparsed(url.value).shown)
                _ = part.parsed(problems: &problems)
                var entry = Setting(
                    key: key.rawValue, value: Masking.display(urlPart, for: key), source: url.source, note: "from url")
                if let best { record(ignored: best, for: &entry, url: url, urlPart: urlPart) }
                entries.append(entry)
                continue
            }
            guard let best else {
                entries.append(Self.unsetEntry(key, environment: environment, problems: &problems))
                continue
            }
            if let url, best.position > url.position, key.namesTarget {
                var entry = Self.unsetEntry(key, environment: environment, problems: &problems)
                record(ignored: best, for: &entry, url: url, urlPart: nil)
                entries.append(entry)
                continue
            }
            guard let value = best.parsed(problems: &problems) else { continue }
            configuration[key.libpqKeyword] = value.text
            if [.keepalivesIdle, .keepalivesInterval, .keepalivesCount].contains(key) { keepalives = true }
            entries.append(
                Setting(
                    key: key.rawValue, value: Masking.display(value.text, for: key), source: best.source,
                    note: urlPart != nil ? "overrides url" : nil))
        }
        if keepalives { configuration["keepalives"] = "1" }
        resolvePreparedStatements(lookup: lookup, problems: &problems)
    }

    /// `prepared_statements: false` never names a statement (a connection through a pooler names none anyway); not a
    /// libpq keyword, so a URL never sets it.
    private mutating func resolvePreparedStatements(lookup: SettingLookup, problems: inout [SettingsError.Problem]) {
        let values = ResolvedKeys([.preparedStatements], lookup: lookup, problems: &problems)
        configuration.usePreparedStatements = values.text(.preparedStatements) != "false"
        entries.append(values.entry(.preparedStatements))
    }

    /// Notes on `entry` that `ignored` lost to the URL, and warns when both come from the same source and disagree:
    /// then the user most likely meant both, while a file value shadowed by the environment is the normal case.
    private mutating func record(ignored: RawSetting, for entry: inout Setting, url: RawSetting, urlPart: String?) {
        let note = "\(ignored.source) ignored"
        entry.note = entry.note.map { "\($0); \(note)" } ?? note
        guard ignored.position.origin == url.position.origin, ignored.value != urlPart else { return }
        let key = ignored.key
        let shown = key == .password ? "" : " \(Quote.text(Masking.display(ignored.value, for: key)))"
        let urlSays =
            urlPart.map {
                key == .password
                    ? "a different password" : "\(key.rawValue) \(Quote.text(Masking.display($0, for: key)))"
            }
            ?? "no \(key.rawValue)"
        warnings.append(
            "\(ignored.source): \(ignored.keyPath)\(shown) is ignored: the url from \(url.source) has priority and "
                + "names the database with \(urlSays); put the \(key.rawValue) in the url or at the url's level")
    }

    /// The URL's keywords as libpq reads them; none after appending a problem if libpq cannot parse it, or reads it
    /// differently than a person would.
    private static func parse(_ url: RawSetting, problems: inout [SettingsError.Problem]) -> ConnectionConfiguration {
        let parsed: ConnectionConfiguration
        do {
            parsed = try ConnectionConfiguration(url.value)
        } catch {
            problems.append(invalidURL(url, libpqError: error.message))
            return ConnectionConfiguration(parameters: [])
        }
        if let options = optionsAfterURL(url.value) {
            // libpq takes all after the path for the database name, so a password there would never be sent as one.
            problems.append(urlWithOptions(url, head: options.head, options: options.tail))
            return ConnectionConfiguration(parameters: [])
        }
        if let apparent = Masking.apparentPassword(in: url.value), apparent != parsed["password"] ?? "" {
            // libpq split the URL elsewhere than a reader would, so parts of the password would go out as the host
            // or the database name, and show up in `worker config`.
            problems.append(ambiguousURL(url))
            return ConnectionConfiguration(parameters: [])
        }
        return parsed
    }

    /// A URL libpq cannot parse, shown with everything that might be a password hidden (`libpqError` is already).
    private static func invalidURL(_ url: RawSetting, libpqError: String) -> SettingsError.Problem {
        .invalidValue(
            key: url.keyPath, source: url.source, value: Redaction.maskUnparsed(url.value).shown,
            expected:
                "a postgresql://user:password@host:port/database URL (percent-encode @ : / ? # in the password) "
                + "or a key=value conninfo string; libpq says: \(libpqError)")
    }

    /// A URL followed by conninfo options (`postgresql://u@h/db password=secret`): the URL and the options, split at
    /// the space before the first `keyword=`; nil for anything else.
    private static func optionsAfterURL(_ value: String) -> (head: Substring, tail: Substring)? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.contains("://"), let space = trimmed.firstIndex(where: \.isWhitespace) else { return nil }
        let tail = trimmed[space...].drop(while: \.isWhitespace)
        let isOption: (Substring) -> Bool = { token in
            guard let equals = token.firstIndex(of: "=") else { return false }
            return !token[..<equals].isEmpty && token[..<equals].allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") }
        }
        guard tail.split(whereSeparator: \.isWhitespace).contains(where: isOption) else { return nil }
        return (trimmed[..<space], tail)
    }

    private static func urlWithOptions(_ url: RawSetting, head: Substring, options: Substring) -> SettingsError.Problem
    {
        .invalidValue(
            key: url.keyPath, source: url.source,
            value: Redaction.maskUnparsed(String(head)).shown + " " + Redaction.maskUnparsed(String(options)).shown,
            expected:
                "a URL alone or a key=value conninfo string, not both: libpq reads the text after the URL's space as "
                + "part of the database name; give options as URL parameters (?sslmode=require&password=…), or "
                + "every part as key=value")
    }

    /// A URL whose password holds an unencoded `@` or `/`, which libpq reads as the end of the password.
    private static func ambiguousURL(_ url: RawSetting) -> SettingsError.Problem {
        .invalidValue(
            key: url.keyPath, source: url.source, value: Masking.maskedURL(url.value),
            expected:
                "a URL whose password has @ / ? # percent-encoded (%40 %2F %3F %23): libpq ends the password at "
                + "the first @ or /, and would send the rest as the host or database")
    }

    /// A key nothing sets: libpq decides, from its own environment variable if that is set. A host, user or
    /// application name there gets the check the worker's own keys get, since it is shown and quoted back just the
    /// same.
    private static func unsetEntry(
        _ key: SettingKey, environment: [String: String], problems: inout [SettingsError.Problem]
    ) -> Setting {
        if let variable = key.libpqEnvironmentVariable, let value = environment[variable], !value.isEmpty {
            if [.host, .user, .applicationName].contains(key) {
                let source = SettingSource.environment(variable: variable)
                let raw = RawSetting(
                    key: key, value: value, keyPath: variable, source: source,
                    position: Position(origin: .environment, layer: .postgres))
                _ = raw.parsed(problems: &problems)
            }
            return Setting(
                key: key.rawValue, value: Masking.display(value, for: key), source: .environment(variable: variable),
                note: "read by libpq")
        }
        let definition = key.definition
        return Setting(
            key: key.rawValue, value: definition.defaultValue, source: .default, note: definition.defaultNote)
    }
}
