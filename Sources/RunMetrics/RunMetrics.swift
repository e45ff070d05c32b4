import Batch
import BuildInfo
import CoreMetrics
import Foundation
import Prometheus

/// The metrics of one run, in Prometheus text format for node_exporter's textfile collector.
///
/// Pool waits and holds arrive during the run through swift-metrics (``JobLeases`` records them), which this type
/// bootstraps with a Prometheus backend; everything else is read off the finished report. Values describe the run
/// that wrote the file (gauges: the file is replaced by every run), labelled by job where they are per job; label
/// values are job names and fixed status and kind words, so the series are as many as the batch's jobs.
public final class RunMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry

    /// Starts collecting: the first call of a process bootstraps swift-metrics (which can be done once), so a second
    /// run in the same process shares the first one's histograms.
    public init() {
        registry = Self.shared
    }

    private static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // From a millisecond (a connection idle in the pool) to a minute (pool_timeout's scale).
        let buckets: [Duration] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60),
        ]
        factory.defaultDurationHistogramBuckets = buckets
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// The file's text: the histograms gathered so far and the gauges of `report`, whose run ended with
    /// `exitCode` at `finished`. `lastSuccess` is when the batch last succeeded: now if this run did, else what the
    /// replaced file said (nil: never, as far as anyone knows; the metric is then left out).
    public func text(report: BatchReport, exitCode: Int32, finished: Date, lastSuccess: Date?) -> String {
        let gauges = PrometheusCollectorRegistry()
        Self.record(report, exitCode: exitCode, finished: finished, lastSuccess: lastSuccess, into: gauges)
        return gauges.emitToString() + registry.emitToString()
    }

    private static func record(
        _ report: BatchReport, exitCode: Int32, finished: Date, lastSuccess: Date?,
        into registry: PrometheusCollectorRegistry
    ) {
        func set(_ name: String, _ help: String, _ value: Double, _ labels: [(String, String)] = []) {
            let descriptor = MetricNameDescriptor(
                namespace: "memory_worker", metricName: name, unitName: "", helpText: help)
            registry.makeGauge(descriptor: descriptor, labels: labels).set(value)
        }
        func flag(_ condition: Bool) -> Double { condition ? 1 : 0 }

        set(
            "build_info", "The worker's version and git commit (empty when not built from a checkout); always 1.", 1,
            [("version", BuildInfo.version), ("commit", BuildInfo.commit ?? "")])
        set("run_finished_timestamp_seconds", "When the run ended (Unix time).", finished.timeIntervalSince1970)
        set("run_duration_seconds", "How long the run took.", report.batch.durationS)
        set(
            "run_exit_code", "The run's exit status (0 success, 75 database unreachable; see the README).",
            Double(exitCode))
        if let lastSuccess {
            set(
                "last_success_timestamp_seconds", "When a run last exited 0 (Unix time).",
                lastSuccess.timeIntervalSince1970)
        }
        for status in [BatchStatus.ok, .failed, .interrupted, .unreachable] {
            set(
                "run_status", "1 for how the run ended.", flag(report.batch.status == status),
                [("status", status.rawValue)])
        }
        let jobStatuses: [JobStatus] = [.ok, .failed, .interrupted, .skipped, .notStarted]
        for status in jobStatuses {
            set(
                "jobs", "Jobs of the run by how they ended.", Double(report.jobs.count { $0.status == status }),
                [("status", status.rawValue)])
        }
        if let peak = report.batch.peakRSSMB {
            set("peak_rss_bytes", "The process's peak resident memory.", peak * 1_048_576)
        }

        for job in report.jobs {
            let label = ("job", job.name)
            set("job_duration_seconds", "How long the job ran.", job.durationS, [label])
            set("job_retries", "Units of the job retried after a failure that may pass.", Double(job.retries), [label])
            let items: [(String, Int?)] = [
                ("processed", job.items), ("inserted", job.inserted), ("duplicates", job.duplicates),
                ("bad_records", job.badRecords), ("hits", job.hits),
            ]
            for case (let kind, let count?) in items {
                set(
                    "job_items",
                    "Items of the job by kind: messages or queries processed, messages inserted, "
                        + "duplicates skipped, bad records skipped, hits returned.", Double(count),
                    [label, ("kind", kind)])
            }
            if let usage = job.poolUsage {
                set("job_pool_leases", "Connections the job leased from the pool.", Double(usage.leases), [label])
                set(
                    "job_pool_timeouts", "Leases of the job that timed out waiting (pool_timeout).",
                    Double(usage.timeouts), [label])
                set(
                    "job_pool_errors", "Leases of the job that failed otherwise (connection errors).",
                    Double(usage.errors), [label])
            }
        }

        let pools = report.pools.values
        set("pool_connections_opened", "Connections the pool opened.", Double(pools.map(\.connectionsNum).reduce(0, +)))
        set(
            "pool_connection_errors", "Failed attempts to open a connection.",
            Double(pools.map(\.connectionsErrors).reduce(0, +)))
        set(
            "pool_connections_lost", "Connections found broken on return.",
            Double(pools.map(\.connectionsLost).reduce(0, +)))

        let leaks = report.leaks
        set(
            "leak_check_passed", "1 when the leak check passed; 0 when it found a leak or could not ask the server.",
            flag(leaks.ok))
        set(
            "leak_check_outstanding_leases", "Leases still out when the pool closed.",
            Double(leaks.outstandingLeases.count))
        if let left = leaks.serverConnectionsLeft {
            set(
                "server_backends_left", "Backends the run opened still on the server after the pool closed.",
                Double(left))
        }
    }
}
