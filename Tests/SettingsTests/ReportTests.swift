import Foundation
import Testing

@testable import Diagnostics
@testable import Settings

@Suite struct ReportTests {
    @Test func rowsAreAlignedAndNameTheirSource() throws {
        let (settings, path) = try load("postgres:\n  max_overflow: 2\n", environment: ["POSTGRES_POOL_SIZE": "5"])
        let lines = settings.formattedReport().split(separator: "\n").map(String.init)
        let poolSize = try #require(lines.first { $0.hasPrefix("pool_size ") })
        #expect(poolSize.hasSuffix("(env POSTGRES_POOL_SIZE)"))
        #expect(poolSize.contains("= 5 "))
        let overflow = try #require(lines.first { $0.hasPrefix("max_overflow ") })
        #expect(overflow.hasSuffix("(\(path ?? ""):2, max size 7)"))
        let rows = lines.filter { !$0.hasPrefix("#") }
        #expect(rows.count == SettingKey.allCases.count)
        // Keys pad to one width, so every `=` lines up.
        #expect(
            Set(rows.compactMap { row in row.firstIndex(of: "=").map { row.distance(from: row.startIndex, to: $0) } })
                .count == 1)
    }

    @Test func jsonIsOneObjectForScripts() throws {
        let (settings, _) = try load(
            "postgres:\n  pool_sise: 1\n",
            environment: ["DATABASE_URL": "postgresql://app:\(secret)@db:5432/prod", "POSTGRES_POOL_SIZE": "5"])
        let json = try settings.jsonReport()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["database"] as? String == "postgresql://app:***@db:5432/prod")
        #expect(object["database_configured"] as? Bool == true)
        #expect((object["warnings"] as? [String])?.count == 1)
        let entries = try #require(object["settings"] as? [[String: Any]])
        let poolSize = try #require(entries.first { $0["key"] as? String == "pool_size" })
        #expect(poolSize["value"] as? String == "5")
        #expect(poolSize["source"] as? String == "env POSTGRES_POOL_SIZE")
        let keepalives = try #require(entries.first { $0["key"] as? String == "keepalives_idle" })
        #expect(keepalives["value"] is NSNull)
        #expect(!json.contains(secret))
    }

    @Test func sourcesPrintAsEnvFileLineOrDefault() {
        #expect(SettingSource.environment(variable: "POSTGRES_PORT").description == "env POSTGRES_PORT")
        #expect(SettingSource.file(path: "config.yaml", line: 7).description == "config.yaml:7")
        #expect(SettingSource.file(path: "config.yaml", line: nil).description == "config.yaml")
        #expect(SettingSource.default.description == "default")
    }

    @Test func suggestionsNeedToBeClose() {
        #expect(NameSuggestion.closest(to: "pool_sise", among: ["pool_size", "port"]) == "pool_size")
        #expect(NameSuggestion.closest(to: "poolSize", among: ["pool_size", "port"]) == "pool_size")
        #expect(NameSuggestion.closest(to: "frobnicate", among: ["pool_size", "port"]) == nil)
        #expect(NameSuggestion.levenshtein(Array("kitten"), Array("sitting")) == 3)
    }
}
