import Foundation
import Testing

@testable import Settings

/// The settings table is complete and consistent, and the README documents exactly its keys.
@Suite struct SettingTableTests {
    @Test func everyDefaultPassesItsOwnRule() {
        for key in SettingKey.allCases {
            guard let value = key.definition.defaultValue else { continue }
            #expect(key.rule.parse(value) != nil, "\(key.shownName): default '\(value)'")
        }
    }

    @Test func aDefaultItsRuleRefusesIsAProblem() {
        var problems: [SettingsError.Problem] = []
        let row = SettingDefinition(.worker, .wholeNumber(1...Int.max), default: "0", "a bad row")
        #expect(ResolvedKeys.defaultValue(row, of: "worker.bad", problems: &problems) == nil)
        #expect(
            problems.map(\.description) == [
                "default: invalid value '0' for worker.bad; expected a whole number of at least 1"
            ])
    }

    @Test func everyKeyIsDocumentedAndNamedOnce() {
        #expect(Set(SettingKey.allCases.map(\.shownName)).count == SettingKey.allCases.count)
        for key in SettingKey.allCases {
            #expect(!key.definition.doc.isEmpty, "\(key.shownName)")
            #expect(SettingKey.named(key.shownName) == key)
        }
    }

    /// The variable the table names is the one swift-configuration reads: each key set through it is found there.
    @Test func theTablesVariableSetsTheKey() throws {
        for key in SettingKey.allCases {
            let value =
                switch key.rule {
                case .choice(let choices): choices[0]
                default: key == .url ? "postgresql://localhost/db" : key.definition.defaultValue ?? "5"
                }
            let (settings, _) = try load(environment: [key.environmentVariable: value])
            #expect(
                settings.entry(key.shownName)?.source == .environment(variable: key.environmentVariable),
                "\(key.shownName) through \(key.environmentVariable)")
        }
    }

    @Test func theReadmeListsEveryKeyWithItsVariableDefaultAndDoc() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let rows = try Self.settingsTable(in: text)
        #expect(rows.map(\.key) == SettingKey.allCases.map(\.shownName))
        for (key, row) in zip(SettingKey.allCases, rows) {
            let definition = key.definition
            #expect(row.variable == key.environmentVariable, "\(key.shownName)")
            #expect(row.defaultValue == definition.defaultValue ?? definition.defaultNote ?? "", "\(key.shownName)")
            #expect(row.doc == definition.doc, "\(key.shownName)")
        }
    }

    struct ReadmeRow {
        var key: String
        var variable: String
        var defaultValue: String
        var doc: String
    }

    struct NoSettingsTable: Error {}

    /// The rows of the README's table headed `| key | variable | default | what it does |`, backticks removed.
    static func settingsTable(in readme: String) throws -> [ReadmeRow] {
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = lines.firstIndex(of: "| key | variable | default | what it does |") else {
            throw NoSettingsTable()
        }
        return lines[(header + 2)...].prefix { $0.hasPrefix("|") }.map { line in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map {
                $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "")
            }
            return ReadmeRow(
                key: cells[0], variable: cells[1], defaultValue: cells[2], doc: cells[3...].joined(separator: "|"))
        }
    }
}
