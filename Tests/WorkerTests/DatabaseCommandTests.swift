import Foundation
import Testing

/// `worker monitor` and `worker doctor` against the private test cluster (`DATABASE_URL`, set by `make test`).
@Suite struct DatabaseCommandTests {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String { "DATABASE_URL is not set: run the tests with 'make test', which starts the cluster" }
    }

    static func databaseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else { throw NotConfigured() }
        return url
    }

    @Test func doctorPassesEveryCheck() async throws {
        let output = try await WorkerProcess.run(
            ["doctor"], environment: ["DATABASE_URL": try Self.databaseURL(), "WORKER_CONFIG": nil])
        #expect(output.status == 0, "stdout:\n\(output.stdout)\nstderr:\n\(output.stderr)")
        let lines = output.stdoutLines
        #expect(lines.count == 5)
        #expect(lines.allSatisfy { $0.hasPrefix("✅ ") }, "\(output.stdout)")
        for check in ["singleton", "pool sharing", "configuration applied", "leak prevention", "stable over 10 jobs"] {
            #expect(lines.contains { $0.contains(check) }, "no line for \(check)")
        }
    }

    @Test func monitorJSONCountsConnections() async throws {
        let output = try await WorkerProcess.run(
            ["monitor", "--json"], environment: ["DATABASE_URL": try Self.databaseURL(), "WORKER_CONFIG": nil])
        #expect(output.status == 0, "\(output.stderr)")
        let lines = output.stdoutLines
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let total = try #require(object["total"] as? Int)
        let ours = try #require(object["ours"] as? Int)
        let byState = try #require(object["by_state"] as? [String: Int])
        let byApplication = try #require(object["by_application"] as? [String: Int])
        #expect(total >= ours && ours >= 0)
        #expect(byState.values.reduce(0, +) == total)
        #expect(byApplication.values.reduce(0, +) == total)
        #expect(object["application_name"] as? String == "memory-worker")
        #expect((object["database"] as? String)?.hasPrefix("postgresql://") == true)
        #expect(object["time"] is String)
    }

    @Test func monitorRepeatsForItsDuration() async throws {
        let output = try await WorkerProcess.run(
            ["monitor", "--json", "--interval", "0.2", "--duration", "0.5"],
            environment: ["DATABASE_URL": try Self.databaseURL(), "WORKER_CONFIG": nil])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdoutLines.count == 3, "samples at 0, 0.2 and 0.4 s")
    }

    @Test func monitorCountsOurConnections() async throws {
        let name = "worker-tests-\(UInt32.random(in: 0...UInt32.max))"
        let output = try await WorkerProcess.run(
            ["monitor"],
            environment: [
                "DATABASE_URL": try Self.databaseURL(), "WORKER_CONFIG": nil, "POSTGRES_APPLICATION_NAME": name,
            ])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("ours 0"), "its own connection is not counted: \(output.stdout)")
        #expect(output.stdout.contains("'\(name)'"))
    }

    @Test(arguments: [["--interval", "0"], ["--duration=-1"], ["--interval", "nan"]])
    func invalidScheduleExitsTwo(arguments: [String]) async throws {
        let output = try await WorkerProcess.run(["monitor"] + arguments)
        #expect(output.status == 2)
        let option = try #require(arguments.first?.split(separator: "=").first)
        #expect(output.stderr.contains(option))
    }
}
