import Foundation
import Postgres
import Testing

/// `worker run`'s batch lock between real worker processes on the private cluster: while one run of a batch holds
/// it, another exits 75 at once with one line naming the holder and writes nothing; `--wait-lock` waits for it;
/// a holder killed outright frees it when its lease runs out; the jobs' order does not matter and `--lock-key`
/// separates batches; the same through PgBouncer in transaction mode.
///
/// The holder is kept busy without timing: the test holds a SHARE lock on the store's messages table, which its
/// ingest must wait for (queries, which only read, do not), and lets go when the test is done with the other runs.
@Suite struct BatchLockRunTests {
    @Test func aSecondRunOfTheSameFilesExitsAtOnceNamingTheHolder() async throws {
        try await Scenario.with("lock-same") { scenario in
            let holder = try await scenario.startHolder(["load.yaml", "ask.yaml"])
            let refused = try await scenario.run(
                ["load.yaml", "ask.yaml", "--report-file", "refused.json", "--metrics-file", "refused.prom"])
            try await scenario.expectRefused(refused, by: holder)
            #expect(!scenario.exists("refused.json") && !scenario.exists("refused.prom"), "the refused run wrote")
            try await scenario.expectFinishes(holder)
        }
    }

    @Test func theSameFilesInAnotherOrderAreTheSameBatch() async throws {
        try await Scenario.with("lock-order") { scenario in
            let holder = try await scenario.startHolder(["load.yaml", "ask.yaml"])
            try await scenario.expectRefused(try await scenario.run(["ask.yaml", "load.yaml"]), by: holder)
            try await scenario.expectFinishes(holder)
        }
    }

    @Test func aLockKeySeparatesBatches() async throws {
        try await Scenario.with("lock-key") { scenario in
            let holder = try await scenario.startHolder(["load.yaml", "ask.yaml", "--lock-key", "one"])
            // Other files under the same key are the same batch; the same files under another key are not.
            try await scenario.expectRefused(try await scenario.run(["ask.yaml", "--lock-key", "one"]), by: holder)
            let other = try await scenario.run(["ask.yaml", "--lock-key", "two"])
            #expect(other.status == 0, "\(other.stderr)")
            try await scenario.expectFinishes(holder)
        }
    }

    @Test func aRunThatWaitsForTheLockRunsOnceTheHolderEnds() async throws {
        try await Scenario.with("lock-wait") { scenario in
            let holder = try await scenario.startHolder(["load.yaml", "ask.yaml"])
            let waiter = try scenario.start(["ask.yaml", "load.yaml", "--wait-lock", "300"], name: "waiter")
            try await scenario.waitUntil("the waiting run says it waits") {
                scenario.text("waiter.err").contains("waiting up to")
            }
            #expect(waiter.isRunning)
            try await scenario.expectFinishes(holder)
            try await scenario.waitUntil("the waiting run ends") { !waiter.isRunning }
            #expect(waiter.terminationStatus == 0, "\(scenario.text("waiter.err"))")
            #expect(scenario.text("waiter.out").contains("ok"))
        }
    }

    /// A holder killed with -9 stops its heartbeat: the next run is refused, and told the heartbeat's age against
    /// the lease, until the lease has run out; then a run takes the lock over and does the batch.
    @Test func aKilledHoldersLockIsTakenOverAfterItsLease() async throws {
        try await Scenario.with("lock-killed") { scenario in
            // Long enough for the refused run to start and ask on a loaded machine; the last run waits it out.
            let lease = ["WORKER_LOCK_LEASE": "20"]
            let holder = try await scenario.startHolder(["load.yaml", "ask.yaml"], environment: lease)
            kill(holder.processIdentifier, SIGKILL)
            try await scenario.waitUntil("the killed holder ends") { !holder.isRunning }
            let refused = try await scenario.run(["load.yaml", "ask.yaml"], environment: lease)
            try await scenario.expectRefused(refused, by: holder)
            #expect(refused.stderr.contains("lease 20 s: free in"), "\(refused.stderr)")
            try await scenario.releaseMessages()
            let next = try await scenario.run(["load.yaml", "ask.yaml", "--wait-lock", "120"], environment: lease)
            #expect(next.status == 0, "\(next.stderr)")
            #expect(try await scenario.messagesStored() == 1)
        }
    }

    /// A holder whose heartbeat finds its lock gone logs it loudly and starts no further job: the report says the
    /// lock was lost, the job waiting for its turn is `not_started`, and the run exits 1.
    @Test func aRunThatLosesItsLockStartsNoFurtherJob() async throws {
        try await Scenario.with("lock-lost") { scenario in
            let holder = try await scenario.startHolder(
                ["load.yaml", "ask.yaml", "--parallel-jobs", "1", "--report-file", "holder.json"],
                environment: ["WORKER_LOCK_LEASE": "0.6"])
            try await scenario.observer.query("DELETE FROM \(scenario.schema).batch_locks")
            try await scenario.waitUntil("the holder notices") { scenario.text("holder.err").contains("was lost") }
            try await scenario.releaseMessages()
            try await scenario.waitUntil("the holder ends") { !holder.isRunning }
            #expect(holder.terminationStatus == 1, "\(scenario.text("holder.err"))")
            let report =
                try JSONSerialization.jsonObject(with: Data(scenario.text("holder.json").utf8)) as? [String: Any]
            let failure = (report?["batch"] as? [String: Any])?["failure"] as? [String: Any]
            #expect((failure?["reason"] as? String)?.contains("was lost") == true, "\(String(describing: failure))")
            let statuses = (report?["jobs"] as? [[String: Any]])?.map { $0["status"] as? String }
            #expect(statuses == ["ok", "not_started"])
        }
    }

    /// PgBouncer in transaction mode hands a server connection to another client after each transaction, so the
    /// lock may not live in a session; prepared statements are off, as PgBouncer needs.
    @Test func throughPgBouncerInTransactionMode() async throws {
        let server = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
        try await PgBouncerProcess.with(serverURL: server, poolSize: 8) { bouncer in
            try await Scenario.with(
                "lock-bouncer",
                environment: ["DATABASE_URL": bouncer.url, "POSTGRES_PREPARED_STATEMENTS": "false"]
            ) { scenario in
                let holder = try await scenario.startHolder(["load.yaml", "ask.yaml"])
                try await scenario.expectRefused(try await scenario.run(["ask.yaml", "load.yaml"]), by: holder)
                try await scenario.expectFinishes(holder)
            }
        }
    }
}

/// A folder with a batch (`load.yaml`, an ingest of one message; `ask.yaml`, a query), a store schema of its own,
/// a connection to the cluster that holds the SHARE lock keeping a holder's ingest waiting, and one to look with
/// (a failed look would abort the first one's transaction).
private struct Scenario {
    let folder: URL
    let schema: String
    let admin: PostgresConnection
    let observer: PostgresConnection
    /// Set for every worker run: where it connects, and how.
    let environment: [String: String]

    static func with(
        _ name: String, environment: [String: String] = [:], _ body: (Scenario) async throws -> Void
    ) async throws {
        let url = try #require(ProcessInfo.processInfo.environment["DATABASE_URL"], "run through make test")
        let suffix = UInt32.random(in: 0...UInt32.max)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mw-\(name)-\(suffix)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let schema = "\(name.replacing("-", with: "_"))_\(suffix)"
        // A small pool: every test here runs several workers at once, beside every other test.
        try "worker:\n  store_schema: \(schema)\npostgres:\n  pool_size: 2\n"
            .write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        try """
        name: load
        kind: ingest
        concurrency: 1
        messages:
          - {user: u, session: s, role: user, content: the lock keeps overlapping runs apart}

        """.write(to: folder.appendingPathComponent("load.yaml"), atomically: true, encoding: .utf8)
        try "name: ask\nkind: query\nuser: u\nqueries: [overlapping runs]\n"
            .write(to: folder.appendingPathComponent("ask.yaml"), atomically: true, encoding: .utf8)
        let admin = try await PostgresConnection.connect(try ConnectionConfiguration(url))
        defer { admin.close() }
        let observer = try await PostgresConnection.connect(try ConnectionConfiguration(url))
        defer { observer.close() }
        let scenario = Scenario(
            folder: folder, schema: schema, admin: admin, observer: observer, environment: environment)
        let migrated = try await scenario.run(["migrate"])
        try #require(migrated.status == 0, "\(migrated.stderr)")
        try await admin.execute(script: "BEGIN; LOCK TABLE \(schema).messages IN SHARE MODE")
        do {
            try await body(scenario)
        } catch {
            try? await admin.execute(script: "ROLLBACK; DROP SCHEMA \(schema) CASCADE")
            throw error
        }
        try await admin.execute(script: "ROLLBACK; DROP SCHEMA \(schema) CASCADE")
    }

    /// Runs `worker` in the folder and waits for it.
    func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> WorkerProcess.Output {
        try await WorkerProcess.run(
            arguments, environment: environment.merging(extra) { $1 }, directory: folder)
    }

    /// Starts `worker` in the folder, its stdout and stderr going to NAME.out and NAME.err there.
    func start(_ arguments: [String], name: String, environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = try WorkerProcess.executableURL()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(environment.merging(extra) { $1 }) { $1 }
        var handles: [FileHandle] = []
        defer { for handle in handles { try? handle.close() } }
        for (stream, suffix) in [(\Process.standardOutput, "out"), (\Process.standardError, "err")] {
            let file = folder.appendingPathComponent("\(name).\(suffix)")
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            let handle = try FileHandle(forWritingTo: file)
            handles.append(handle)
            process[keyPath: stream] = handle
        }
        // The child has its own copies once it runs; these are closed on return.
        try process.run()
        return process
    }

    /// Starts a run that takes the batch lock and then waits for the messages table; returns once it holds the
    /// lock.
    func startHolder(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> Process {
        let holder = try start(arguments, name: "holder", environment: extra)
        let pid = Int(holder.processIdentifier)
        try await waitUntil("the first run holds the batch lock") {
            guard holder.isRunning else { return true }
            let rows = try? await observer.query("SELECT pid FROM \(schema).batch_locks").rows
            return try rows?.contains { try $0.decode(0, as: Int.self) == pid } == true
        }
        try #require(holder.isRunning, "the first run ended early: \(text("holder.err"))")
        return holder
    }

    /// A refusal: exit 75, nothing on stdout, one line on stderr naming the holder.
    func expectRefused(_ output: WorkerProcess.Output, by holder: Process) async throws {
        #expect(output.status == 75, "\(output.combined)")
        #expect(output.stdout.isEmpty, "\(output.stdout)")
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(output.stderr)")
        let line = String(lines.first ?? "")
        for part in [
            "another run of this batch holds its lock", "host ", "pid \(holder.processIdentifier),",
            "application_name memory-worker", "since ", "heartbeat ", "not running",
        ] {
            #expect(line.contains(part), "\(line)")
        }
    }

    /// Lets the holder's ingest go on, and expects the holder to finish the batch.
    func expectFinishes(_ holder: Process) async throws {
        try await releaseMessages()
        try await waitUntil("the first run ends") { !holder.isRunning }
        #expect(holder.terminationStatus == 0, "\(text("holder.err"))")
        #expect(try await messagesStored() == 1)
        let left = try await observer.query(
            "SELECT count(*) FROM \(schema).batch_locks WHERE pid = $1", [Int(holder.processIdentifier)]
        ).rows[0]
        #expect(try left.decode(0, as: Int.self) == 0, "the lock was not released")
    }

    /// Ends the transaction holding the messages table, and opens another holding nothing.
    func releaseMessages() async throws {
        try await admin.execute(script: "ROLLBACK; BEGIN")
    }

    func messagesStored() async throws -> Int {
        try await observer.query("SELECT count(*) FROM \(schema).messages").rows[0].decode(0, as: Int.self)
    }

    func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path)
    }

    func text(_ name: String) -> String {
        (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    /// Polls `condition` every 10 ms for up to 60 s; fails the test naming `what` if it never holds.
    func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<6000 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }
}
