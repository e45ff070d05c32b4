import Foundation
import Settings
import Testing

/// Mutated `config.yaml` files and environment values through `SettingsLoader`: success, or a `SettingsError` whose
/// every problem names its source; the password never shows in an error, a warning or an effective setting.
@Suite struct SettingsFuzzTests {
    static let cases = 3_000

    /// The corpus itself must load.
    @Test func corpusLoads() throws {
        let run = try FuzzRun(kind: "settings-corpus", cases: 0)
        let path = run.folder.appendingPathComponent("config.yaml").path
        for (number, text) in Corpus.configFiles.enumerated() {
            writeFile(atPath: path, contents: Data(text.utf8))
            #expect(throws: Never.self, "template \(number)") {
                _ = try SettingsLoader.load(configPath: path, environment: [:])
            }
        }
        for (name, value) in Corpus.environment {
            #expect(throws: Never.self, "\(name)") {
                _ = try SettingsLoader.load(configPath: path, environment: [name: value])
            }
        }
    }

    @Test func mutatedSettings() async throws {
        let run = try FuzzRun(kind: "settings", cases: Self.cases)
        let path = run.folder.appendingPathComponent("config.yaml").path
        var counts: [String: Int] = [:]
        let elapsed = await run.forEachCase { index, mutations in
            let bytes = Self.configFile(&mutations)
            var environment = Self.environment(&mutations)
            // Named by --config or by WORKER_CONFIG; never the working directory's config.yaml.
            let byOption = mutations.random.chance(80)
            if !byOption { environment["WORKER_CONFIG"] = path }
            writeFile(atPath: path, contents: Data(bytes))
            if run.isRepro {
                print("fuzz settings case \(index): \(mutations.applied)\n\(FuzzRun.show(bytes, limit: 4_000))")
                print("environment: \(environment.mapValues { FuzzRun.show(Array($0.utf8), limit: 200) })")
            }
            mutations.tally(into: &counts)
            let input = bytes + Array("\n--- environment: \(environment.sorted { $0.key < $1.key })".utf8)
            var leaks = LeakCheck(config: bytes, environment: environment, run: run, index: index, input: input)
            run.run(index, label: mutations.applied.joined(separator: ", ")) {
                do throws(SettingsError) {
                    let settings = try SettingsLoader.load(configPath: byOption ? path : nil, environment: environment)
                    counts["loaded", default: 0] += 1
                    Self.check(settings, path: path, leaks: &leaks)
                } catch {
                    counts["rejected", default: 0] += 1
                    counts["problems", default: 0] += error.problems.count
                    Self.check(error, path: path, facts: LineFacts(bytes, yaml: true), leaks: &leaks)
                }
            }
            counts["password shown where it was no longer written as one (not failed)", default: 0] += leaks.unmarked
        }
        print(run.summary(elapsed: elapsed, counts: counts))
    }

    /// A config file from the corpus, mutated in seven cases out of ten.
    static func configFile(_ mutations: inout Mutations) -> [UInt8] {
        let file = mutations.random.pick(Corpus.configFiles)
        guard mutations.random.chance(70) else { return Array((file + "\n").utf8) }
        return mutations.mutatedYAMLFile(file)
    }

    /// A few variables from the corpus, some of them spoilt: wrong values, or URLs with a character dropped,
    /// doubled or replaced.
    static func environment(_ mutations: inout Mutations) -> [String: String] {
        var environment: [String: String] = [:]
        for (name, value) in Corpus.environment where mutations.random.chance(12) {
            environment[name] = value
        }
        guard !environment.isEmpty, mutations.random.chance(60) else { return environment }
        for _ in 0..<mutations.random.int(1...2) {
            let name = mutations.random.pick(environment.keys.sorted())
            let value = environment[name]!
            if name.hasSuffix("URL"), mutations.random.chance(70) {
                environment[name] = mutateText(value, &mutations)
            } else {
                mutations.applied.append("bad variable")
                environment[name] = mutations.random.pick(Corpus.badEnvironmentValues)
            }
        }
        return environment
    }

    /// `text` with one character dropped, doubled, replaced by URL punctuation, or the rest cut off; or with one
    /// of the delimiters around the password broken, the typos that move a password where masking does not look.
    static func mutateText(_ text: String, _ mutations: inout Mutations) -> String {
        mutations.applied.append("mangled URL")
        var characters = Array(text)
        let at = mutations.random.int(0..<characters.count)
        switch mutations.random.int(0..<8) {
        case 0: characters.remove(at: at)
        case 1: characters.insert(characters[at], at: at)
        case 2: characters[at] = mutations.random.pick(Array("@:/?#%[] \u{0}='\\&"))
        case 3: characters.removeSubrange(at...)
        case 4:
            // The `@` after the password: dropped or mistyped.
            if let sign = characters.lastIndex(of: "@") {
                if mutations.random.chance(50) {
                    characters.remove(at: sign)
                } else {
                    characters[sign] = mutations.random.pick(Array("#/?:!2 "))
                }
            }
        case 5:
            // An unencoded delimiter inside the password.
            if let range = text.range(of: Corpus.secret) {
                let offset = text.distance(from: text.startIndex, to: range.lowerBound) + mutations.random.int(1..<10)
                characters.insert(mutations.random.pick(Array("@/?#:= ")), at: offset)
            }
        case 6:
            // The `:` between user and password, or the `password` keyword of a conninfo string, mistyped.
            let mistyped = mutations.random.pick([
                "passwd=", "pasword=", "Password=", "password =", "pass word=", "pw=",
            ])
            let replaced = text.replacingOccurrences(of: "password=", with: mistyped)
                .replacingOccurrences(
                    of: "memory:Zx9", with: mutations.random.pick(["memory;Zx9", "memoryZx9", "memory@Zx9"]))
            characters = Array(replaced)
        default:
            characters = Array(
                text.replacingOccurrences(of: "://", with: mutations.random.pick([":/", "//", ":///", "://://"])))
        }
        return String(characters)
    }

    /// Warnings, effective settings and the database URL of settings that loaded.
    static func check(_ settings: WorkerSettings, path: String, leaks: inout LeakCheck) {
        for warning in settings.warnings {
            checkMessage(warning, what: "warning", path: path, leaks: &leaks)
        }
        let database = settings.connection.maskedURL
        leaks.check(database, in: "database URL", strict: false, shown: database)
        for entry in settings.entries {
            if let value = entry.value {
                leaks.check(
                    value, in: "effective setting", strict: false, shown: "\(entry.key) = \(value) from \(entry.source)"
                )
            }
        }
    }

    /// Every problem names its source first, stays on one line and never shows the password.
    static func check(_ error: SettingsError, path: String, facts: LineFacts, leaks: inout LeakCheck) {
        let (run, index, input) = (leaks.run, leaks.index, leaks.input)
        if error.problems.isEmpty {
            run.report(index, "error without problems", "SettingsError with no problems", input: input)
        }
        for problem in error.problems {
            checkMessage(problem.description, what: "problem", path: path, leaks: &leaks)
            if let value = problem.value {
                leaks.check(value, in: "problem value", strict: true, shown: value)
            }
            if problem.source == nil, !problem.description.hasPrefix("default") {
                run.report(index, "problem without source", String(problem.description.prefix(300)), input: input)
            }
            if case .file(_, let line?) = problem.source, line < 1 || line > facts.lineCount + 1 {
                run.report(
                    index, "problem line out of range",
                    "line \(line) of \(facts.lineCount): \(problem.description.prefix(300))",
                    input: input)
            }
        }
    }

    /// A warning or problem: starts with where the value came from (`path`, `path:line`, `env NAME`, `default`),
    /// is one readable line, and does not contain the password.
    static func checkMessage(_ message: String, what: String, path: String, leaks: inout LeakCheck) {
        let (run, index, input) = (leaks.run, leaks.index, leaks.input)
        leaks.check(message, in: what, strict: what == "problem", shown: message)
        if !(message.hasPrefix(path) || message.hasPrefix("env ") || message.hasPrefix("default")) {
            run.report(index, "\(what) without source", String(message.prefix(300)), input: input)
        }
        if let (rule, detail) = MessageRules.problem(message) {
            run.report(index, "\(what): \(rule)", "\(detail): \(message.prefix(300))", input: input)
        }
    }
}

/// Whether output shows the password, and whether that fails the case.
///
/// An error never may: a value the loader rejects is one it could not take apart, so it must not echo the parts
/// that may be the password (a URL without its `@`, a conninfo string with `passwd=`). Warnings and effective
/// settings come from values that were understood; there the password counts as leaked only while every copy of it
/// in the input is still written as a password: after `password:` or `password=`, between `user:` and `@` in a URL,
/// or in a `…PASSWORD` variable. A mutation that fuses it into a user name (`postgres://memoryZx9-Secret!@host`)
/// makes it that name, which no masking can know; such cases are counted, not failed.
struct LeakCheck {
    let run: FuzzRun
    let index: Int
    let input: [UInt8]
    /// Whether every copy of the password in the input is written as a password.
    let everyCopyMarked: Bool
    /// Cases where unmarked password text was shown.
    private(set) var unmarked = 0

    init(config: [UInt8], environment: [String: String], run: FuzzRun, index: Int, input: [UInt8]) {
        // A user `name:secret` writes the password as one too (the worker masks all after the `:`).
        let userValue = Regex<Substring>(verbatim: ":" + Corpus.secretMarker)
        self.run = run
        self.index = index
        self.input = input
        var copies = 0
        var marked = 0
        let config = String(decoding: config, as: UTF8.self)
        copies += Self.count(Corpus.secretMarker, in: config)
        marked += Self.markedCopies(in: config)
        for (name, value) in environment {
            let found = Self.count(Corpus.secretMarker, in: value)
            copies += found
            if name.hasSuffix("PASSWORD") {
                marked += found
            } else if name.hasSuffix("USER"), value.firstRange(of: userValue) == value.firstRange(of: ":") {
                marked += found
            } else {
                marked += Self.markedCopies(in: value)
            }
        }
        everyCopyMarked = marked >= copies
    }

    mutating func check(_ text: String, in what: String, strict: Bool, shown: String) {
        guard text.contains(Corpus.secretMarker) else { return }
        if strict || everyCopyMarked {
            run.report(index, "password in \(what)", String(shown.prefix(400)), input: input)
        } else {
            unmarked += 1
        }
    }

    /// Copies written as a password: a YAML `password:` value (anchored or quoted too), a conninfo `password=`,
    /// a URL's user info, with or without the scheme.
    static func markedCopies(in text: String) -> Int {
        let marker = Corpus.secretMarker
        let patterns = [
            #"password\s*:\s*(&\S+\s+)?['"]?"# + marker,
            #"password\s*=\s*'?"# + marker,
            #"://[^/@\s'"]*:"# + marker + #"[^@\s'"/]*@"#,
            #"(\s|^|['"])[^/@\s'":]*:"# + marker + #"[^@\s'"/]*@"#,
        ]
        return patterns.reduce(0) { sum, pattern in
            sum + ((try? Regex(pattern)).map { text.matches(of: $0).count } ?? 0)
        }
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.ranges(of: needle).count
    }
}
