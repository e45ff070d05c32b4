import Foundation
import Testing

@testable import Settings

@Suite struct FileTests {
    @Test func aMissingDefaultFileMeansDefaults() throws {
        let settings = try SettingsLoader.load(configPath: nil, environment: [:], defaultPath: missingDefaultPath)
        #expect(settings.configFile == nil)
        #expect(settings.pool == .init())
    }

    @Test func aMissingNamedFileIsAnError() throws {
        let error = #expect(throws: SettingsError.self) {
            try SettingsLoader.load(configPath: missingDefaultPath, environment: [:], defaultPath: missingDefaultPath)
        }
        #expect(error?.description == "\(missingDefaultPath): no such config file (named by --config)")
    }

    @Test func aMissingFileNamedByWorkerConfigIsAnError() throws {
        let error = #expect(throws: SettingsError.self) {
            try SettingsLoader.load(
                configPath: nil, environment: ["WORKER_CONFIG": missingDefaultPath], defaultPath: missingDefaultPath)
        }
        #expect(error?.description == "\(missingDefaultPath): no such config file (named by WORKER_CONFIG)")
    }

    /// Not "You don't have permission", which Foundation says of anything that is not a regular file.
    @Test(arguments: [("/dev/null", "a character device"), ("/tmp", "a directory")])
    func aNamedFileThatIsNotARegularFileSaysSo(path: String, type: String) throws {
        let error = #expect(throws: SettingsError.self) {
            try SettingsLoader.load(configPath: path, environment: [:], defaultPath: missingDefaultPath)
        }
        #expect(
            error?.description
                == "\(path): is \(type), not a regular file (named by --config); name a YAML config file")
    }

    @Test func configOptionBeatsWorkerConfigWhichBeatsTheDefault() throws {
        let option = try ConfigFixture("postgres:\n  pool_size: 1\n")
        let variable = try ConfigFixture("postgres:\n  pool_size: 2\n")
        let fallback = try ConfigFixture("postgres:\n  pool_size: 3\n")
        defer {
            for fixture in [option, variable, fallback] { fixture.remove() }
        }
        let environment = ["WORKER_CONFIG": variable.path]
        let fromOption = try SettingsLoader.load(
            configPath: option.path, environment: environment, defaultPath: fallback.path)
        #expect(fromOption.pool.minSize == 1)
        #expect(fromOption.configFile == option.path)
        let fromVariable = try SettingsLoader.load(
            configPath: nil, environment: environment, defaultPath: fallback.path)
        #expect(fromVariable.pool.minSize == 2)
        let fromDefault = try SettingsLoader.load(configPath: nil, environment: [:], defaultPath: fallback.path)
        #expect(fromDefault.pool.minSize == 3)
        #expect(fromDefault.configFile == fallback.path)
    }

    @Test func invalidYAMLGivesLineAndColumn() throws {
        let (error, path) = try loadError("postgres:\n  host: a\n   port: 5\n")
        #expect(
            error.description
                == "\(path ?? ""):3: invalid YAML at column 8: mapping values are not allowed in this context")
        #expect(error.problems.first?.source == .file(path: path ?? "", line: 3))
    }

    @Test func unterminatedQuoteGivesTheLine() throws {
        let (error, path) = try loadError("postgres:\n  host: a\n  password: \"\(secret)\n")
        #expect(error.description.hasPrefix("\(path ?? ""):"))
        #expect(error.description.contains("invalid YAML"))
        #expect(!error.description.contains(secret))
    }

    @Test func duplicateKeysAreAnError() throws {
        let (error, path) = try loadError("postgres:\n  host: a\n  host: b\n")
        #expect(error.description == "\(path ?? ""):2: invalid YAML: key 'host' appears twice in one mapping; keep one")
    }

    @Test func moreThanOneDocumentIsAnError() throws {
        let (error, path) = try loadError("postgres:\n  host: a\n---\npostgres:\n  host: b\n")
        #expect(error.description.hasPrefix("\(path ?? ""):3:"))
    }

    @Test func aFileThatIsNotUTF8IsAnError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString).yaml")
        try Data([0x70, 0x3A, 0x20, 0xFF, 0xFE, 0x0A]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = #expect(throws: SettingsError.self) {
            try SettingsLoader.load(configPath: url.path, environment: [:], defaultPath: missingDefaultPath)
        }
        #expect(error?.description.contains("not UTF-8") == true)
    }

    @Test func anEmptyFileMeansDefaults() throws {
        let (settings, path) = try load("# nothing here yet\n")
        #expect(settings.pool == .init())
        #expect(settings.configFile == path)
    }

    @Test func unknownKeysWarnWithTheClosestKnownKey() throws {
        let (settings, path) = try load(
            """
            postgres:
              host: db
              pool_sise: 3
              Pool-Timeout: 3
              db: x
            postgress:
              host: y
            database:
              host: z
            store:
              database:
                url: postgresql://h/db
            frobnicate: 1
            worker:
              concurrency: 4
              whatever: {a: 1}
            """)
        let file = path ?? ""
        #expect(
            settings.warnings == [
                "\(file):3: unknown key 'pool_sise' in postgres; did you mean 'pool_size'?",
                "\(file):4: unknown key 'Pool-Timeout' in postgres; did you mean 'pool_timeout'?",
                "\(file):5: unknown key 'db' in postgres; did you mean 'database'?",
                "\(file):6: unknown key 'postgress' at the top level; did you mean 'postgres'?",
                "\(file):9: unknown key 'host' in database; did you mean 'database.postgres.host'?",
                "\(file):12: unknown key 'url' in store.database; did you mean 'store.database.postgres.url'?",
                "\(file):13: unknown key 'frobnicate' at the top level",
                "\(file):16: unknown key 'whatever' in worker",
            ])
        // Unknown keys are not read, and do not stop the program.
        #expect(settings.pool.minSize == 10)
        #expect(settings.connection["host"] == "db")
    }
}
