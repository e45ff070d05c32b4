import Foundation
import Glibc
import Support

/// stderr, shared by the logs, the worker's own lines and the live progress lines (``show(_:)``), which stay below
/// everything else: erased before any other line is written, drawn again after it. Every write to stderr goes
/// through here, under one lock, so lines never interleave.
public enum StandardError {
    /// The live lines on screen; the cursor waits at the start of the first.
    private static let live = Locked<[String]>([])

    /// Writes `text`, whole lines, above the live lines.
    public static func write(_ text: String) {
        live.withLock { lines in
            output(lines.isEmpty ? text : eraseBelow + text + drawn(lines))
        }
    }

    /// Replaces the live lines (terminal control sequences: only for a terminal).
    public static func show(_ lines: [String]) {
        live.withLock { current in
            guard !(current.isEmpty && lines.isEmpty) else { return }
            current = lines
            output(eraseBelow + drawn(lines))
        }
    }

    /// Erases the live lines.
    public static func clear() {
        show([])
    }

    /// Erases from the cursor to the end of the screen.
    private static let eraseBelow = "\u{1B}[J"

    /// The lines, each cut to the terminal's width so that none wraps (the cursor goes back up one row per line),
    /// then the cursor back at the start of the first.
    private static func drawn(_ lines: [String]) -> String {
        guard !lines.isEmpty else { return "" }
        let width = max(10, terminalWidth() - 1)
        return lines.map { String($0.prefix(width)) + "\n" }.joined() + "\u{1B}[\(lines.count)A"
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), $0) }
        return status == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    private static func output(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// swift-log's text handler writes through this, so its lines keep below them too.
struct StandardErrorStream: TextOutputStream, Sendable {
    mutating func write(_ string: String) {
        StandardError.write(string)
    }
}
