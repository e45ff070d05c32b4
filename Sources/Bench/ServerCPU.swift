import Foundation
import Glibc

/// The CPU time the local PostgreSQL server has spent, all its processes together: the server's share of a
/// measurement, which on a machine this small competes with the client's for the same CPUs.
///
/// Read from `/proc`: the postmaster's own time, its live children's, and the time of children that have exited
/// (`cutime`, `cstime`), so backends that a pgbench run opened and closed are counted too.
struct ServerCPU: Sendable {
    let postmaster: Int32

    /// Finds the postmaster as the parent of one of its backends; nil when the server is not on this machine.
    init?(backendPID: Int32) {
        guard let status = try? String(contentsOfFile: "/proc/\(backendPID)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("PPid:") }),
            let parent = Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces)),
            Self.times(of: parent) != nil
        else { return nil }
        postmaster = parent
    }

    /// Seconds of CPU the server has used so far.
    func seconds() -> Double {
        var ticks = Self.times(of: postmaster).map { $0.own + $0.children } ?? 0
        for child in children() { ticks += Self.times(of: child)?.own ?? 0 }
        return Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private func children() -> [Int32] {
        let list = (try? String(contentsOfFile: "/proc/\(postmaster)/task/\(postmaster)/children", encoding: .utf8))
        return list?.split(separator: " ").compactMap { Int32($0) } ?? []
    }

    /// utime + stime, and cutime + cstime, in clock ticks (`proc_pid_stat(5)` fields 14 to 17).
    private static func times(of pid: Int32) -> (own: Int, children: Int)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, which may hold spaces: state is field 3, so utime (14) is at index 11.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 14, let utime = Int(fields[11]), let stime = Int(fields[12]),
            let cutime = Int(fields[13]), let cstime = Int(fields[14])
        else { return nil }
        return (utime + stime, cutime + cstime)
    }
}
