import Foundation
import Logging

/// Writes each log event as one JSON object on one line, for log shippers that read JSON (`--log-format json`).
///
/// The keys are stable, so a query written today keeps working: `time` (UTC, ISO 8601 with milliseconds), `level`,
/// `message` and `logger` always; `job`, `pool` and `sqlstate` when the event has them; any other metadata under
/// `metadata`.
struct JSONLogHandler: LogHandler {
    /// The metadata keys promoted to the top level of the object.
    static let topLevelKeys = ["job", "pool", "sqlstate"]

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    private let label: String
    private let write: @Sendable (String) -> Void

    /// `write` receives each line with its newline; stderr in the worker, a buffer in tests.
    init(label: String, level: Logger.Level, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let given = event.metadata { merged.merge(given) { $1 } }
        write(Self.line(label: label, level: event.level, message: event.message.description, metadata: merged))
    }

    /// One event as its line, newline included.
    static func line(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var rest = metadata
        var object: [String: Any] = [
            "time": timestamp(Date()),
            "level": level.rawValue,
            "message": message,
            "logger": label,
        ]
        for key in topLevelKeys {
            if let value = rest.removeValue(forKey: key) { object[key] = value.description }
        }
        if !rest.isEmpty { object["metadata"] = rest.mapValues(\.description) }
        // Strings and dictionaries of strings only, which JSONSerialization always encodes.
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data ?? Data(), as: UTF8.self) + "\n"
    }

    private static func timestamp(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}
