import Foundation

extension WorkerSettings {
    /// The settings as `worker config` prints them: a header with the file and the database, then one aligned row
    /// per key with its source, so "why is it using that value?" has a one-command answer.
    ///
    /// ```
    /// pool_size          = 5       (env POSTGRES_POOL_SIZE)
    /// ```
    ///
    /// Passwords show as `***`, URLs with their password masked. Warnings are not included: they go to stderr.
    public func formattedReport() -> String {
        var lines = [
            "# config file: \(configFile ?? "none found; built-in defaults apply")",
            "# database:    \(connection.maskedURL)\(databaseConfigured ? "" : " (not configured; libpq defaults)")",
        ]
        let keyWidth = entries.map(\.key.count).max() ?? 0
        // Long values (URLs) overflow their column rather than pushing every other row's source off screen.
        let valueWidth = entries.map { ($0.value ?? Self.unset).count }.filter { $0 <= 24 }.max() ?? 0
        for entry in entries {
            let value = entry.value ?? Self.unset
            let origin = ([entry.source.description] + [entry.note].compactMap { $0 }).joined(separator: ", ")
            lines.append("\(entry.key.padded(to: keyWidth)) = \(value.padded(to: valueWidth))  (\(origin))")
        }
        return lines.joined(separator: "\n")
    }

    /// The settings as one JSON object for scripts, in snake_case like every JSON the worker prints:
    /// `{"config_file", "database", "database_configured", "settings": [{"key", "value", "source", "note", "doc"}],
    /// "warnings"}`. `value` is null where libpq decides; values are masked exactly as in the text report.
    public func jsonReport() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let report = JSONReport(
            configFile: configFile,
            database: connection.maskedURL,
            databaseConfigured: databaseConfigured,
            settings: entries.map {
                JSONReport.Entry(
                    key: $0.key, value: $0.value, source: $0.source.description, note: $0.note,
                    doc: SettingKey.named($0.key)?.definition.doc ?? "")
            },
            warnings: warnings
        )
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    private static let unset = "(unset)"
}

private struct JSONReport: Encodable {
    struct Entry: Encodable {
        var key: String
        var value: String?
        var source: String
        var note: String?
        var doc: String

        // Spelled out so an unset value is an explicit null rather than a missing key.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(key, forKey: .key)
            try container.encode(value, forKey: .value)
            try container.encode(source, forKey: .source)
            try container.encodeIfPresent(note, forKey: .note)
            try container.encode(doc, forKey: .doc)
        }

        private enum CodingKeys: String, CodingKey {
            case key, value, source, note, doc
        }
    }

    var configFile: String?
    var database: String
    var databaseConfigured: Bool
    var settings: [Entry]
    var warnings: [String]

    private enum CodingKeys: String, CodingKey {
        case configFile = "config_file"
        case database
        case databaseConfigured = "database_configured"
        case settings, warnings
    }
}

extension String {
    fileprivate func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
