import Diagnostics
import Foundation

/// An open JSON Lines file, shared by the iterators of one reader.
///
/// Iterators read with `pread` at their own offsets, so each `for` loop over a reader starts at the top and two loops
/// do not disturb each other. The descriptor closes when the last reader and iterator are gone.
final class OpenFile: Sendable {
    let descriptor: Int32
    let path: String
    let progress: SourceProgress

    /// Opens `url` for reading. Refuses anything but a regular file: a FIFO or device would block or never end.
    init(url: URL) throws(SourceFileError) {
        let path = url.path
        // O_NONBLOCK keeps `open` from waiting for a writer when the path is a FIFO; it is refused just below.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw SourceFileError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw SourceFileError(path: path, reason: "cannot read file status: \(reason)")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw SourceFileError(
                path: path, reason: "is \(FileType.describe(status.st_mode)), not a regular JSON Lines file")
        }
        self.descriptor = descriptor
        self.path = path
        progress = SourceProgress(totalBytes: Int64(status.st_size))
    }

    deinit {
        close(descriptor)
    }
}

/// Splits a file into lines, reading a block at a time, so memory use depends on the longest line and not on the
/// file. Handles `\r\n`, a last line without `\n` and a UTF-8 byte order mark; skips blank lines.
struct JSONLinesReader {
    /// A line longer than this is reported as a bad record and skipped, rather than buffered without limit.
    static let defaultMaximumLineBytes = 64 << 20
    static let blockSize = 64 << 10

    /// What the next line turned out to be.
    enum Line {
        /// A non-blank line without its line break. `bytes` is valid only during the call it is passed to.
        case text(number: Int, bytes: UnsafeRawBufferPointer)
        /// A line, or a part of the file, that cannot be decoded at all.
        case unreadable(BadRecord)
    }

    private let file: OpenFile
    private let maximumLineBytes: Int
    /// Bytes read from the file; `storage[start..<end]` are the ones not yet handed out.
    private var storage: [UInt8]
    private var start = 0
    private var end = 0
    /// Where to go on looking for `\n`: everything from `start` to here is known to have none.
    private var scanned = 0
    private var offset: Int64 = 0
    private var lineNumber = 0
    private var endOfFile = false
    private var failed = false

    init(file: OpenFile, maximumLineBytes: Int = defaultMaximumLineBytes) {
        self.file = file
        self.maximumLineBytes = maximumLineBytes
        storage = [UInt8](repeating: 0, count: Self.blockSize)
    }

    /// Hands the next non-blank line to `body` and returns what it returns, or nil at the end of the file. After a
    /// read error (handed over once, as an unreadable line) the file counts as ended.
    mutating func next<T>(_ body: (Line) -> T) -> T? {
        while !failed {
            if let newline = findNewline() {
                lineNumber += 1
                let lineStart = start
                start = newline + 1
                scanned = start
                if let result = deliver(lineStart..<newline, body) { return result }
                continue
            }
            if endOfFile {
                guard start < end else { return nil }
                lineNumber += 1
                let lineStart = start
                start = end
                scanned = end
                if let result = deliver(lineStart..<end, body) { return result }
                continue
            }
            if end - start > maximumLineBytes {
                return body(.unreadable(skipLongLine()))
            }
            if let error = fill() {
                failed = true
                return body(.unreadable(error))
            }
        }
        return nil
    }

    /// The index of the next `\n` in the unread bytes; remembers how far it looked when there is none.
    private mutating func findNewline() -> Int? {
        let from = scanned
        let to = end
        guard from < to else { return nil }
        let found: Int? = storage.withUnsafeBytes { all in
            guard let base = all.baseAddress, let hit = memchr(base + from, Int32(UInt8(ascii: "\n")), to - from)
            else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
        if found == nil { scanned = to }
        return found
    }

    /// Calls `body` with the bytes of `range` (a line without its `\n`) unless the line is blank.
    private func deliver<T>(_ range: Range<Int>, _ body: (Line) -> T) -> T? {
        if range.count > maximumLineBytes {
            return body(.unreadable(tooLong(line: lineNumber, length: range.count)))
        }
        return storage.withUnsafeBytes { all in
            var lower = range.lowerBound
            var upper = range.upperBound
            if upper > lower, all[upper - 1] == UInt8(ascii: "\r") { upper -= 1 }
            let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
            if lineNumber == 1, upper - lower >= 3, all[lower..<lower + 3].elementsEqual(byteOrderMark) {
                lower += 3
            }
            let bytes = UnsafeRawBufferPointer(rebasing: all[lower..<upper])
            guard bytes.contains(where: { !Self.isBlank($0) }) else { return nil }
            return body(.text(number: lineNumber, bytes: bytes))
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// Reads the next block after the unread bytes, first moving them to the front (or growing the storage when
    /// they fill it); the problem, if reading failed.
    private mutating func fill() -> BadRecord? {
        if start > 0 {
            let (from, count) = (start, end - start)
            storage.withUnsafeMutableBytes { all in
                guard let base = all.baseAddress else { return }
                base.copyMemory(from: base + from, byteCount: count)
            }
            scanned -= start
            end = count
            start = 0
        }
        if storage.count - end < Self.blockSize {
            storage.append(contentsOf: repeatElement(0, count: max(storage.count, Self.blockSize)))
        }
        var readCount = 0
        repeat {
            readCount = storage.withUnsafeMutableBytes { all in
                let window = UnsafeMutableRawBufferPointer(rebasing: all[end...])
                return pread(file.descriptor, window.baseAddress, window.count, off_t(offset))
            }
        } while readCount < 0 && errno == EINTR
        guard readCount >= 0 else {
            return BadRecord(
                file: file.path, line: lineNumber + 1,
                reason: "cannot read the file (\(String(cString: strerror(errno)))); the rest of it was not read")
        }
        end += readCount
        offset += Int64(readCount)
        file.progress.advance(to: offset)
        if readCount == 0 { endOfFile = true }
        return nil
    }

    /// Drops the rest of an overlong line, up to and including its `\n`, and reports it.
    private mutating func skipLongLine() -> BadRecord {
        lineNumber += 1
        let number = lineNumber
        var length = end - start
        // The line is dropped whole, so the grown storage can go with it.
        storage = [UInt8](repeating: 0, count: Self.blockSize)
        start = 0
        end = 0
        scanned = 0
        while !endOfFile {
            if let error = fill() {
                failed = true
                return error
            }
            if let newline = findNewline() {
                length += newline
                start = newline + 1
                scanned = start
                break
            }
            length += end
            end = 0
            scanned = 0
        }
        return tooLong(line: number, length: length)
    }

    private func tooLong(line: Int, length: Int) -> BadRecord {
        BadRecord(
            file: file.path, line: line,
            reason: "line is longer than \(maximumLineBytes) bytes (\(length) or more); expected one JSON object per "
                + "line, is this a JSON Lines file?")
    }
}
