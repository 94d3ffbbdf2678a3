import Foundation
import Locking

/// The resident memory of the services while the load runs, read from /proc: the peak of
/// `VmRSS` samples, so start-up allocations do not count and the figure is under load.
final class MemorySampler: Sendable {
    private let names: [String]
    private let peaksByName = Locked<[String: Int]>([:])

    init(processes names: [String]) { self.names = names }

    /// Samples until cancelled.
    func sample(every interval: Duration) async {
        while !Task.isCancelled {
            let current = Self.residentKilobytes(of: names)
            peaksByName.withLock { peaks in
                for (name, kilobytes) in current { peaks[name] = max(peaks[name] ?? 0, kilobytes) }
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Peak RSS in kilobytes by process name (the largest process of that name).
    var peaks: [String: Int] { peaksByName.withLock { $0 } }

    /// `VmRSS` of the processes named `names`, largest per name. The kernel keeps only the
    /// first 15 bytes of a name in `comm` (`customer-servic`), so names match on those.
    static func residentKilobytes(of names: [String]) -> [String: Int] {
        var result: [String: Int] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in entries where pid.allSatisfy(\.isNumber) {
            guard
                let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines),
                let name = names.first(where: { $0.prefix(15) == comm }),
                let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
            else { continue }
            result[name] = max(result[name] ?? 0, kilobytes)
        }
        return result
    }
}
