import Foundation
import Logging
import Support

/// How the worker writes its logs on stderr: for people or for log shippers.
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's line format: `time level label: [metadata] message`.
    case text
    /// One JSON object per line (``JSONLogHandler``).
    case json
}

/// Sets up the process's logging once, before anything logs, and writes the worker's own lines on stderr in the same
/// format, so that with `json` every line on stderr is an object a log shipper can read.
public enum LogOutput {
    private static let format = Locked(LogFormat.text)

    /// Logs go to stderr, so `worker … --report json > out.json` keeps stdout clean.
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        Self.format.withLock { $0 = format }
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler(label: label, stream: StandardErrorStream())
                handler.logLevel = level
                return handler
            case .json:
                return JSONLogHandler(label: label, level: level) { line in StandardError.write(line) }
            }
        }
    }

    /// Writes one of the worker's own messages (`worker: …`) on stderr: as it is in text, as an object of
    /// `memory-worker` at `level`, with `metadata` (a `sqlstate`, say), in json.
    public static func writeLine(_ message: String, level: Logger.Level, metadata: Logger.Metadata = [:]) {
        let line: String
        switch format.withLock({ $0 }) {
        case .text:
            line = message + "\n"
        case .json:
            line = JSONLogHandler.line(label: "memory-worker", level: level, message: message, metadata: metadata)
        }
        StandardError.write(line)
    }
}
