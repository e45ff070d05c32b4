import Foundation

/// The machine and server the numbers were taken on: they mean little without it.
struct MachineInfo: Codable, Sendable {
    /// CPUs this process may run on (`nproc`).
    var cpus: Int
    var cpuModel: String?
    var memoryGiB: Double?
    var kernel: String?
    /// `SELECT version()`.
    var postgres: String
    var pgbench: String
    var database: String
    var build = "release"
    /// The 1, 5 and 15-minute load averages before the first measurement: on a shared machine, other people's
    /// builds and tests compete with both sides of every comparison, and this is the only trace of it in the report.
    var loadAverageAtStart: [Double]

    static func collect(postgres: String, pgbench: String, database: String) -> MachineInfo {
        MachineInfo(
            cpus: ProcessInfo.processInfo.activeProcessorCount,
            cpuModel: field("model name", in: "/proc/cpuinfo"),
            memoryGiB: field("MemTotal", in: "/proc/meminfo")
                .flatMap { Double($0.split(separator: " ").first ?? "") }
                .map { $0 / 1_048_576 },
            kernel: (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))
                .map { "Linux " + $0.trimmingCharacters(in: .whitespacesAndNewlines) },
            postgres: postgres,
            pgbench: pgbench,
            database: database,
            loadAverageAtStart: loadAverage()
        )
    }

    /// The 1, 5 and 15-minute load averages from /proc/loadavg (empty if it cannot be read).
    static func loadAverage() -> [Double] {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).compactMap { Double($0) }
    }

    /// The value of the first `name: value` line of a /proc file.
    private static func field(_ name: String, in path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
