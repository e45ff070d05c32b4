import ArgumentParser
import LogOutput
import Logging

/// `--log-level` and `--log-format`, for the commands that log while they work.
struct LoggingOptions: ParsableArguments {
    /// swift-log's levels by name. Its own type is not made an argument here: a conformance of another package's
    /// type to another package's protocol would clash if either package added it.
    enum Level: String, CaseIterable, ExpressibleByArgument {
        case trace, debug, info, notice, warning, error, critical

        var level: Logger.Level {
            switch self {
            case .trace: .trace
            case .debug: .debug
            case .info: .info
            case .notice: .notice
            case .warning: .warning
            case .error: .error
            case .critical: .critical
            }
        }
    }

    @Option(help: "Least severe log level written on stderr (default: notice; error with --quiet).")
    var logLevel: Level?

    @Option(help: "text for people, json for log shippers (one object per line).")
    var logFormat: LogFormat = .text

    /// Sets up logging; `quiet` lowers the default level to errors, an explicit `--log-level` wins.
    func bootstrap(quiet: Bool = false) {
        LogOutput.bootstrap(format: logFormat, level: logLevel?.level ?? (quiet ? .error : .notice))
    }
}

extension LogFormat: ExpressibleByArgument {}
