import Foundation

/// Ways to spoil valid input: byte-level damage any file can suffer, and structure-aware changes that keep most of
/// the document intact so the checks behind the parser get exercised too.
///
/// Every choice comes from the case's generator, so a case is the same bytes on every run with the same seed.
struct Mutations {
    var random: SplitMix64

    /// The names of the mutations applied, for the per-kind counts and for failure messages.
    var applied: [String] = []

    init(_ random: SplitMix64) {
        self.random = random
    }

    /// Counts the mutations applied by kind (`alias bomb (list, 6 levels)` and `deep nesting 990` count as
    /// `alias bomb` and `deep nesting`), for the summary.
    func tally(into counts: inout [String: Int]) {
        for name in applied {
            var kind = name.split(separator: " (").first.map(String.init) ?? name
            if let last = kind.split(separator: " ").last, Int(last) != nil {
                kind = String(kind.dropLast(last.count + 1))
            }
            counts["mutation " + kind, default: 0] += 1
        }
    }

    // MARK: - Values

    /// 100 KB of text: long enough to show whether messages shorten what they quote.
    static let hugeText = String(repeating: "x", count: 100_000)

    /// 4 KB of text, longer than any message should quote. Most long values are this size, since reading 100 KB
    /// costs a debug build a fifth of a second and the point is made either way.
    static let longText = String(repeating: "y", count: 4_096)

    /// A long value: 100 KB one time in four, 4 KB otherwise.
    mutating func longValue() -> String {
        random.chance(25) ? Self.hugeText : Self.longText
    }

    /// Nesting depths: around libyaml's limit of 1000 levels (below, at, above; the document's own mappings count
    /// too) and far beyond it. libyaml refuses more than 1000 with an error, so 10,000 cannot overflow a stack.
    static let depths = [10, 200, 990, 999, 1000, 1001, 10_000]

    /// `[[[…]]]`, `depth` deep.
    static func deepList(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    /// `{a: {a: … x}}`, `depth` deep.
    static func deepMapping(_ depth: Int, json: Bool = false) -> String {
        let open = json ? #"{"a": "# : "{a: "
        return String(repeating: open, count: depth) + (json ? "1" : "x") + String(repeating: "}", count: depth)
    }

    /// A YAML value of the wrong type or range for most fields.
    mutating func wrongYAMLValue() -> String {
        applied.append("wrong value")
        switch random.int(0..<30) {
        case 0: return "[a, b]"
        case 1: return "{a: 1}"
        case 2: return "true"
        case 3: return "no"
        case 4: return "1.5"
        case 5: return "1e400"
        case 6: return "-1"
        case 7: return "0"
        case 8: return "99999999999999999999"
        case 9: return "\"\""
        case 10: return "''"
        case 11: return "~"
        case 12: return ""
        case 13: return random.chance(50) ? longValue() : "\"\(longValue()) with spaces\""
        case 14: return "\"a\\0b\""
        case 15: return "\"line\\nbreak\\r\\u0007bell\""
        case 16: return ".nan"
        case 17: return "-.inf"
        case 18: return "0x1F"
        case 19: return "0o17"
        case 20: return "1_000_000_000_000_000_000_000"
        case 21: return "\"500\""
        case 22: return "5e2"
        case 23: return "!!binary aGVsbG8="
        case 24: return "!!int abc"
        case 25: return "!custom x"
        case 26: return "|\n  block\n  text"
        case 27: return "2024-13-45T99:99:99Z"
        case 28: return "*undefined"
        default: return "' '"
        }
    }

    /// A JSON value of the wrong type or range for most fields (a few are not JSON at all).
    mutating func wrongJSONValue() -> String {
        applied.append("wrong value")
        switch random.int(0..<30) {
        case 0: return "[]"
        case 1: return "{}"
        case 2: return "[1, 2]"
        case 3: return #"{"a": 1}"#
        case 4: return "true"
        case 5: return "null"
        case 6: return "1.5"
        case 7: return "1e400"
        case 8: return "-1"
        case 9: return "99999999999999999999"
        case 10: return #""""#
        case 11: return #""   ""#
        case 12: return #""\u0000""#
        case 13: return #""a\u0000b""#
        case 14: return #""\ud800""#
        case 15: return #""\udc00x""#
        case 16: return "\"\(longValue())\""
        case 17: return Self.deepList(random.pick(Self.depths))
        case 18: return Self.deepMapping(random.pick([10, 511, 512, 513, 10_000]), json: true)
        case 19: return #""2024-02-30T25:61:61Z""#
        case 20: return #""bot""#
        case 21: return "NaN"
        case 22: return "0x10"
        case 23: return "'single'"
        case 24: return "-0"
        case 25: return "1e-400"
        case 26: return #""\uZZZZ""#
        case 27: return "\"tab\u{9}inside\""
        case 28: return #""2024-05-01T12:00:00+25:00""#
        default: return #""USER""#
        }
    }

    /// A near miss of a field name: what a tired operator types.
    mutating func nearMiss(_ name: String) -> String {
        applied.append("near-miss name")
        let characters = Array(name)
        guard characters.count > 1 else { return name + name }
        let at = random.int(0..<characters.count)
        var result = characters
        switch random.int(0..<8) {
        case 0: result.remove(at: at)
        case 1: result.insert(characters[at], at: at)
        case 2:
            let other = at == characters.count - 1 ? at - 1 : at + 1
            result.swapAt(at, other)
        case 3: result = Array(name.replacingOccurrences(of: "_", with: "-"))
        case 4: result = Array(name.uppercased())
        case 5: result = Array(name.replacingOccurrences(of: "_", with: ""))
        case 6: result[at] = random.pick(Array("aeiouxz_"))
        default:
            let aliases = [
                "username", "passwd", "hostname", "db", "dbname", "min_size", "connect_timeout", "jobs_", "Name",
                "type", "file", "src", "depends", "dependsOn", "topk", "top-k", "batchsize", "on_bad_records",
            ]
            return random.pick(aliases)
        }
        return String(result)
    }

    // MARK: - YAML structure

    /// A line of a block mapping: indentation, `- ` if it starts a list item, the key and the value after `: `.
    struct KeyedLine {
        var indent: String
        var dash: Bool
        var key: String
        var value: String

        init?(_ line: String) {
            let spaces = line.prefix(while: { $0 == " " })
            var rest = line.dropFirst(spaces.count)
            dash = rest.hasPrefix("- ")
            if dash { rest = rest.dropFirst(2) }
            guard let first = rest.first, !"#{[\"'-&*!|>%@`?".contains(first),
                let colon = rest.firstIndex(of: ":"),
                rest.index(after: colon) == rest.endIndex || rest[rest.index(after: colon)] == " "
            else { return nil }
            indent = String(spaces)
            key = String(rest[..<colon])
            value = String(rest[rest.index(after: colon)...].drop(while: { $0 == " " }))
        }

        /// The line with `- ` turned into spaces: a sibling key of the same mapping.
        var siblingIndent: String { indent + (dash ? "  " : "") }

        var text: String { indent + (dash ? "- " : "") + key + ":" + (value.isEmpty ? "" : " " + value) }
    }

    /// A billion-laughs block at `indent`: `levels` anchors, each a list (or mapping) of nine aliases of the one
    /// before. Returns the lines and the last anchor's name.
    static func aliasBomb(levels: Int, indent: String, mapping: Bool, prefix: String = "lol")
        -> (lines: [String], last: String)
    {
        var lines: [String] = []
        for level in 0..<levels {
            let name = "\(prefix)\(level)"
            let item = level == 0 ? "x" : "*\(prefix)\(level - 1)"
            let body =
                mapping
                ? "{" + (1...9).map { "k\($0): \(item)" }.joined(separator: ", ") + "}"
                : "[" + Array(repeating: item, count: 9).joined(separator: ", ") + "]"
            lines.append("\(indent)\(name): &\(name) \(body)")
        }
        return (lines, "\(prefix)\(levels - 1)")
    }

    /// `text`, a YAML file, with one to three mutations, structural or byte-level. Byte damage that leaves invalid
    /// UTF-8 ends the mutating: decoding would repair it, so the damaged bytes are what is returned.
    mutating func mutatedYAMLFile(_ text: String) -> [UInt8] {
        var lines = text.split(separator: "\n").map(String.init)
        for _ in 0..<random.int(1...3) {
            if random.chance(65) {
                mutateYAML(&lines)
            } else if random.chance(20) {
                mutateLines(&lines)
            } else {
                var bytes = Array(lines.joined(separator: "\n").utf8)
                mutateBytes(&bytes)
                if bytes.contains(where: { $0 >= 0x80 }) { return bytes + [0x0A] }
                lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                    .map(String.init)
            }
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// Applies one structure-aware change to the lines of a YAML document.
    mutating func mutateYAML(_ lines: inout [String]) {
        let keyed = lines.indices.filter { KeyedLine(lines[$0]) != nil }
        guard !keyed.isEmpty, !lines.isEmpty else { return }
        let index = random.pick(keyed)
        var line = KeyedLine(lines[index])!
        switch random.int(0..<16) {
        case 0, 1, 2:
            line.value = wrongYAMLValue()
            lines[index] = line.text
        case 3, 4:
            line.key = nearMiss(line.key)
            lines[index] = line.text
        case 5:
            applied.append("duplicate key")
            var copy = line
            copy.dash = false
            copy.indent = line.siblingIndent
            if random.chance(50) { copy.value = wrongYAMLValue() }
            lines.insert(copy.text, at: index + 1)
        case 6:
            let depth = random.pick(Self.depths)
            applied.append("deep nesting \(depth)")
            line.value = random.chance(50) ? Self.deepList(depth) : Self.deepMapping(depth)
            lines[index] = line.text
        case 7, 8:
            // Lists of aliases expand 9^9 times when something walks them; mappings of aliases are walked by the
            // config reader and cost far more (see AliasBombTests), so they stay at a size known to be cheap.
            let mapping = random.chance(30)
            let levels = mapping ? random.int(1...3) : random.int(1...9)
            applied.append("alias bomb (\(mapping ? "mapping" : "list"), \(levels) levels)")
            var bomb = Self.aliasBomb(levels: levels, indent: line.siblingIndent, mapping: mapping)
            if line.dash {
                // The item's first key stays first; the bomb goes right after it, inside the same item.
                lines.insert(contentsOf: bomb.lines, at: index + 1)
                if random.chance(50),
                    let target = keyed.first(where: { $0 > index && !KeyedLine(lines[$0 + levels])!.dash })
                {
                    var other = KeyedLine(lines[target + levels])!
                    other.value = "*\(bomb.last)"
                    lines[target + levels] = other.text
                }
            } else {
                if random.chance(50) {
                    line.value = "*\(bomb.last)"
                    bomb.lines.append(line.text)
                    lines.replaceSubrange(index...index, with: bomb.lines)
                } else {
                    lines.insert(contentsOf: bomb.lines, at: index)
                }
            }
        case 9:
            applied.append("anchor and alias")
            let anchored = "&a\(index) " + (line.value.isEmpty ? "x" : line.value)
            line.value = anchored
            lines[index] = line.text
            let later = keyed.filter { $0 > index }
            if let target = later.isEmpty ? nil : random.pick(later), var other = KeyedLine(lines[target]) {
                switch random.int(0..<3) {
                case 0: other.value = "*a\(index)"
                case 1: other.key = "*a\(index) "
                default: other = KeyedLine("\(other.siblingIndent)<<: *a\(index)")!
                }
                lines[target] = other.text
            } else {
                lines.append("\(line.siblingIndent)alias_of: *a\(index)")
            }
        case 10:
            applied.append("tag")
            line.value = random.pick([
                "!!binary aGVsbG8=", "!!int \"x\"", "!!float .nan", "!custom x", "!!null", "!!map {}", "!!str 5",
                "!!timestamp 2024-13-45", "!<tag:yaml.org,2002:int> 12", "!!seq [1]", "!!set {a, b}",
            ])
            lines[index] = line.text
        case 11:
            applied.append("document marker")
            lines.insert(
                random.pick(["---", "...", "--- !!map", "%YAML 1.1", "--- |"]), at: random.int(0...lines.count))
        case 12:
            applied.append("tab indentation")
            lines[index] = "\t" + lines[index].drop(while: { $0 == " " })
        case 13:
            applied.append("unbalanced flow")
            line.value += random.pick(["[", "{", "]", "}", "\"", "'", ", x", ": y", " #", "&", "*", "|", ">"])
            lines[index] = line.text
        case 14:
            applied.append("complex key")
            lines.insert("\(line.siblingIndent)? [a, b]\n\(line.siblingIndent): c", at: index)
        default:
            applied.append("drop line")
            lines.remove(at: index)
        }
    }

    // MARK: - JSON Lines structure

    /// One JSON Lines record before it is written: its fields, in order, with their JSON text.
    typealias Record = [(key: String, json: String)]

    /// Applies one structure-aware change to the records of a JSON Lines file; returns the lines.
    mutating func mutateRecords(_ records: inout [Record], extraLines: inout [Int: String]) {
        guard !records.isEmpty else { return }
        let index = random.int(0..<records.count)
        let fields = records[index].indices
        switch random.int(0..<10) {
        case 0, 1, 2:
            if let field = fields.isEmpty ? nil : random.pick(Array(fields)) {
                records[index][field].json = wrongJSONValue()
            }
        case 3:
            if let field = fields.isEmpty ? nil : random.pick(Array(fields)) {
                records[index][field].key = nearMiss(records[index][field].key)
            }
        case 4:
            applied.append("duplicate key")
            if let field = fields.isEmpty ? nil : random.pick(Array(fields)) {
                records[index].append((records[index][field].key, random.chance(50) ? wrongJSONValue() : #""dup""#))
            }
        case 5:
            applied.append("drop field")
            if !fields.isEmpty { records[index].remove(at: random.pick(Array(fields))) }
        case 6:
            applied.append("extra field")
            records[index].append((random.pick(["id", "metadata", "user_", "\u{0}", ""]), wrongJSONValue()))
        case 7:
            applied.append("not an object")
            extraLines[index] = random.pick([
                "[1, 2]", #""text""#, "42", "null", "true", "{", "}", "{}", "{\"user\": }", Self.deepList(10_000),
                "{\"user\" \"a\"}", "{\"user\": \"a\",}", "\u{FEFF}{}", "{\"a\": 1} {\"b\": 2}", "{'a': 1}",
            ])
        case 8:
            applied.append("blank lines")
            extraLines[index] = random.pick(["", "   ", "\t", " \t \r"])
        default:
            applied.append("unicode escapes")
            records[index].append(("content", #""\u00e9\ud83d\ude00\n\t\"\\""#))
        }
    }

    /// The records (and replaced lines) as JSON Lines text.
    static func jsonLines(_ records: [Record], extraLines: [Int: String]) -> String {
        records.indices.map { index in
            if let line = extraLines[index] { return line }
            return "{" + records[index].map { "\"\($0.key)\": \($0.json)" }.joined(separator: ", ") + "}"
        }.joined(separator: "\n") + "\n"
    }

    // MARK: - Bytes

    /// Invalid UTF-8: a bad continuation, bytes that never appear, lone continuations, a truncated sequence, an
    /// overlong encoding and an encoded surrogate.
    static let invalidUTF8: [[UInt8]] = [
        [0xC3, 0x28], [0xFF], [0xFE], [0x80], [0xBF], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC0, 0xAF],
        [0xED, 0xA0, 0x80],
    ]

    /// Applies one byte-level change.
    mutating func mutateBytes(_ bytes: inout [UInt8]) {
        let offset = random.int(0...bytes.count)
        switch random.int(0..<12) {
        case 0, 1:
            applied.append("truncation")
            bytes.removeSubrange(offset...)
        case 2, 3:
            applied.append("byte flip")
            guard !bytes.isEmpty else { return }
            let at = random.int(0..<bytes.count)
            bytes[at] ^= UInt8(truncatingIfNeeded: random.int(1...255))
        case 4, 5:
            applied.append("invalid UTF-8")
            bytes.insert(contentsOf: random.pick(Self.invalidUTF8), at: offset)
        case 6:
            applied.append("NUL byte")
            bytes.insert(0, at: offset)
        case 7:
            applied.append("CRLF")
            var result: [UInt8] = []
            for byte in bytes {
                if byte == 0x0A { result.append(0x0D) }
                result.append(byte)
            }
            bytes = result
        case 8:
            applied.append("lone CR")
            bytes.insert(0x0D, at: offset)
        case 9:
            applied.append("BOM")
            bytes.insert(contentsOf: [0xEF, 0xBB, 0xBF], at: random.chance(70) ? 0 : offset)
        case 10:
            applied.append("tab")
            bytes.insert(0x09, at: offset)
        default:
            applied.append("punctuation")
            bytes.insert(random.pick(Array(":-[]{}&*!|>'\"%@`#,?\\".utf8)), at: offset)
        }
    }

    /// Swaps, duplicates or deletes whole lines.
    mutating func mutateLines(_ lines: inout [String]) {
        guard lines.count > 1 else { return }
        let a = random.int(0..<lines.count)
        let b = random.int(0..<lines.count)
        switch random.int(0..<3) {
        case 0:
            applied.append("swap lines")
            lines.swapAt(a, b)
        case 1:
            applied.append("duplicate line")
            lines.insert(lines[a], at: b)
        default:
            applied.append("delete line")
            lines.remove(at: a)
        }
    }
}

/// Facts about a file's bytes that the checks compare line numbers against.
struct LineFacts {
    /// Lines as the file's reader counts them; a last line without a break counts.
    var lineCount: Int
    /// Lines holding something besides spaces, tabs and `\r` (JSON Lines only).
    var nonBlankLines: Int

    /// JSON Lines count `\n` only. YAML also breaks lines at a lone `\r` and at NEL, LS and PS (`\r\n` is one
    /// break), and so does libyaml when it reports a line, so a YAML file's count must too.
    init(_ bytes: [UInt8], yaml: Bool = false) {
        var count = 0
        var nonBlank = 0
        var current = false
        var started = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            var breakLength = 0
            if byte == 0x0A {
                breakLength = 1
            } else if yaml, byte == 0x0D {
                breakLength = index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
            } else if yaml, byte == 0xC2, index + 1 < bytes.count, bytes[index + 1] == 0x85 {
                breakLength = 2
            } else if yaml, byte == 0xE2, index + 2 < bytes.count, bytes[index + 1] == 0x80,
                bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9
            {
                breakLength = 3
            }
            if breakLength > 0 {
                count += 1
                if current { nonBlank += 1 }
                current = false
                started = false
                index += breakLength
                continue
            }
            started = true
            if byte != 0x20, byte != 0x09, byte != 0x0D { current = true }
            index += 1
        }
        if started {
            count += 1
            if current { nonBlank += 1 }
        }
        lineCount = count
        nonBlankLines = nonBlank
    }
}
