import Foundation
import Testing

/// `--metrics-file` (and `worker.metrics_file`): Prometheus text format for node_exporter's textfile collector,
/// written at the end of every run (a success, a failure, a database that cannot be reached) and read back by the
/// Prometheus client's own parser (Debian's `python3-prometheus-client`, installed by `make setup`).
@Suite struct MetricsFileTests {
    /// The samples of a metrics file, as `prometheus_client.parser` reads them.
    struct Metrics: Decodable {
        struct Sample: Decodable {
            var name: String
            var labels: [String: String]
            var value: Double
        }

        var types: [String: String]
        var samples: [Sample]

        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples.first { $0.name == name && $0.labels == labels }?.value
        }
    }

    struct ParseFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `file` with the Prometheus client's text-format parser, which refuses a malformed exposition.
    static func parse(_ file: URL) async throws -> Metrics {
        let output = try await WorkerProcess.launch(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [
                "-c",
                """
                import json, sys
                from prometheus_client.parser import text_string_to_metric_families
                families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
                names = [f.name for f in families]
                if len(names) != len(set(names)):
                    sys.exit(f"a family appears twice: {names}")
                print(json.dumps({
                    "types": {f.name: f.type for f in families},
                    "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for f in families for s in f.samples],
                }))
                """,
                file.path,
            ],
            environment: ProcessInfo.processInfo.environment, directory: nil, timeout: .seconds(60))
        guard output.status == 0 else { throw ParseFailed(description: output.combined) }
        return try JSONDecoder().decode(Metrics.self, from: Data(output.stdout.utf8))
    }

    static let unreachable: [String: String?] = [
        "DATABASE_URL": "postgresql://u@127.0.0.1:1/x", "WORKER_RETRY_ATTEMPTS": "1",
    ]

    /// The folder's files besides the batch's own: the metrics file only, no temporary left behind.
    static func written(in batch: RunCommandTests.Batch) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: batch.folder.path)
            .filter { !["config.yaml", "messages.jsonl", "bad.jsonl", "jobs.yaml", "metrics"].contains($0) }.sorted()
    }

    @Test func aSuccessfulRunWritesEveryMetric() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        try batch.write(
            "jobs.yaml",
            "jobs:\n  - {name: load, kind: ingest, source: messages.jsonl}\n"
                + "  - {name: ask, kind: query, user: nobody, queries: [quinoa], depends_on: load}\n")
        let output = try await batch.run(["jobs.yaml", "--metrics-file", "worker.prom"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(try Self.written(in: batch) == ["worker.prom"])
        let metrics = try await Self.parse(batch.folder.appendingPathComponent("worker.prom"))

        #expect(metrics.value("memory_worker_run_exit_code") == 0)
        #expect(metrics.value("memory_worker_run_status", ["status": "ok"]) == 1)
        #expect(metrics.value("memory_worker_run_status", ["status": "unreachable"]) == 0)
        #expect(metrics.value("memory_worker_jobs", ["status": "ok"]) == 2)
        #expect(metrics.value("memory_worker_jobs", ["status": "failed"]) == 0)
        #expect(metrics.value("memory_worker_job_items", ["job": "load", "kind": "inserted"]) == 1)
        #expect(metrics.value("memory_worker_job_items", ["job": "load", "kind": "duplicates"]) == 0)
        #expect(metrics.value("memory_worker_job_items", ["job": "load", "kind": "bad_records"]) == 0)
        #expect(metrics.value("memory_worker_job_items", ["job": "ask", "kind": "processed"]) == 1)
        #expect(metrics.value("memory_worker_job_items", ["job": "ask", "kind": "hits"]) != nil)
        #expect(metrics.value("memory_worker_leak_check_passed") == 1)
        #expect(metrics.value("memory_worker_server_backends_left") == 0)
        #expect(metrics.value("memory_worker_pool_connection_errors") == 0)
        #expect(metrics.value("memory_worker_job_pool_timeouts", ["job": "load"]) == 0)
        #expect((metrics.value("memory_worker_run_duration_seconds") ?? -1) >= 0)
        let finished = try #require(metrics.value("memory_worker_run_finished_timestamp_seconds"))
        #expect(metrics.value("memory_worker_last_success_timestamp_seconds") == finished)

        // The histograms of every lease, per job: as many observations as the job's leases.
        #expect(metrics.types["memory_worker_pool_wait_seconds"] == "histogram")
        #expect(metrics.types["memory_worker_pool_hold_seconds"] == "histogram")
        for job in ["load", "ask"] {
            let leases = try #require(metrics.value("memory_worker_job_pool_leases", ["job": job]))
            #expect(leases > 0)
            #expect(metrics.value("memory_worker_pool_wait_seconds_count", ["job": job]) == leases)
            #expect(metrics.value("memory_worker_pool_hold_seconds_count", ["job": job]) == leases)
            #expect(metrics.value("memory_worker_pool_hold_seconds_bucket", ["job": job, "le": "+Inf"]) == leases)
        }
        #expect(metrics.types["memory_worker_run_exit_code"] == "gauge")
    }

    /// A failed run says so, and keeps the last success of the file it replaces: the metric an alert on "the batch
    /// has not succeeded for a day" reads. Named by the setting this time.
    @Test func aFailedRunKeepsTheLastSuccess() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        let file = batch.folder.appendingPathComponent("worker.prom")
        let setting: [String: String?] = ["WORKER_METRICS_FILE": file.path]
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        let good = try await batch.run(["jobs.yaml"], environment: setting)
        #expect(good.status == 0, "\(good.stderr)")
        let lastSuccess = try #require(try await Self.parse(file).value("memory_worker_last_success_timestamp_seconds"))

        try batch.write("bad.jsonl", "{\"user\": \"x\"}\n")
        try batch.write(
            "jobs.yaml",
            "jobs:\n  - {name: load, kind: ingest, source: messages.jsonl}\n"
                + "  - {name: broken, kind: ingest, source: bad.jsonl}\n"
                + "  - {name: after, kind: query, user: nobody, queries: [x], depends_on: broken}\n")
        let failed = try await batch.run(["jobs.yaml"], environment: setting)
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(try Self.written(in: batch) == ["worker.prom"])
        let metrics = try await Self.parse(file)
        #expect(metrics.value("memory_worker_run_exit_code") == 1)
        #expect(metrics.value("memory_worker_run_status", ["status": "failed"]) == 1)
        #expect(metrics.value("memory_worker_jobs", ["status": "ok"]) == 1)
        #expect(metrics.value("memory_worker_jobs", ["status": "failed"]) == 1)
        #expect(metrics.value("memory_worker_jobs", ["status": "skipped"]) == 1)
        #expect(metrics.value("memory_worker_job_items", ["job": "load", "kind": "duplicates"]) == 1)
        #expect(metrics.value("memory_worker_last_success_timestamp_seconds") == lastSuccess)
        let finished = try #require(metrics.value("memory_worker_run_finished_timestamp_seconds"))
        #expect(finished >= lastSuccess)
    }

    /// A database that cannot be reached: exit 75, and the file says what is known (no job started, the
    /// connection errors); with no earlier success on record there is no last-success sample.
    @Test func anUnreachableDatabaseIsWrittenToo() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        try batch.write("jobs.yaml", "name: load\nkind: ingest\nsource: messages.jsonl\n")
        let output = try await batch.run(["jobs.yaml", "--metrics-file", "worker.prom"], environment: Self.unreachable)
        #expect(output.status == 75, "\(output.stderr)")
        let metrics = try await Self.parse(batch.folder.appendingPathComponent("worker.prom"))
        #expect(metrics.value("memory_worker_run_exit_code") == 75)
        #expect(metrics.value("memory_worker_run_status", ["status": "unreachable"]) == 1)
        #expect(metrics.value("memory_worker_jobs", ["status": "not_started"]) == 1)
        #expect((metrics.value("memory_worker_pool_connection_errors") ?? 0) > 0)
        #expect(metrics.value("memory_worker_leak_check_passed") != nil)
        #expect(metrics.value("memory_worker_last_success_timestamp_seconds") == nil)
    }

    /// A metrics file that cannot be written is an input error found before anything runs: exit 2, a message
    /// naming the flag or setting and the path, and nothing written (the database, which cannot be reached, is
    /// never tried: that would be exit 75).
    @Test func aMetricsFileThatCannotBeWrittenStopsTheRunFirst() async throws {
        let batch = try RunCommandTests.Batch()
        defer { batch.remove() }
        let job = "name: load\nkind: ingest\nsource: messages.jsonl\n"
        try batch.write("jobs.yaml", job)
        try FileManager.default.createDirectory(
            at: batch.folder.appendingPathComponent("metrics"), withIntermediateDirectories: false)
        let cases: [(arguments: [String], environment: [String: String?], message: String)] = [
            (
                ["--metrics-file", "missing/worker.prom"], [:],
                "--metrics-file 'missing/worker.prom' cannot be written: "
            ),
            (["--metrics-file", "metrics"], [:], "--metrics-file 'metrics' is a folder; name a file in it"),
            ([], ["WORKER_METRICS_FILE": "jobs.yaml"], "worker.metrics_file 'jobs.yaml' is the job file jobs.yaml; "),
            (
                ["--metrics-file", "report.json", "--report-file", "report.json"], [:],
                "--metrics-file 'report.json' is the --report-file report.json; "
            ),
            // A URL pasted as the path: its password is masked like everywhere else.
            (
                ["--metrics-file", "postgresql://u:s3cret-metrics@h/d.prom"], [:],
                "--metrics-file 'postgresql://u:***@h/d.prom' cannot be written: the folder "
            ),
        ]
        for (arguments, environment, message) in cases {
            let output = try await batch.run(
                ["jobs.yaml"] + arguments, environment: Self.unreachable.merging(environment) { _, new in new })
            #expect(output.status == 2, "\(arguments): \(output.stderr)")
            #expect(output.stderr.contains("worker: \(message)"), "\(output.stderr)")
            #expect(!output.stderr.contains("s3cret"), "\(output.stderr)")
            #expect(try Self.written(in: batch) == [], "\(arguments)")
            #expect(try String(contentsOf: batch.folder.appendingPathComponent("jobs.yaml"), encoding: .utf8) == job)
        }
    }
}
