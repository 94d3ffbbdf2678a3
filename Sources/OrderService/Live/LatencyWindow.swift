import Foundation

/// Order→invoice latencies of the last minute, as percentiles, in constant memory.
///
/// Each second has a histogram with logarithmic buckets (each 10% wider than the one before,
/// from 0.1 ms to about 2 minutes), so a percentile is accurate to within 10% however many
/// orders a second brings — the dashboard's figure at 1,500 orders/s costs the same as at one.
struct LatencyWindow: Sendable {
    /// Seconds kept.
    static let seconds = 60
    static let smallest = 0.1
    static let growth = 1.1
    static let bucketCount = 150

    private struct Slot {
        var second: Int64
        var counts: [UInt32]
        var total: Int
    }

    private var slots: [Slot] = []

    /// Records a latency of `milliseconds` observed at `time`.
    mutating func record(milliseconds: Double, at time: Date) {
        let second = Int64(time.timeIntervalSince1970.rounded(.down))
        let index = Int(second % Int64(Self.seconds))
        if slots.isEmpty {
            slots = (0..<Self.seconds).map { _ in Slot(second: -1, counts: [], total: 0) }
        }
        if slots[index].second != second {
            // Older than what the slot holds: too old to count.
            guard slots[index].second < second else { return }
            slots[index] = Slot(second: second, counts: Array(repeating: 0, count: Self.bucketCount), total: 0)
        }
        slots[index].counts[Self.bucket(of: milliseconds)] += 1
        slots[index].total += 1
    }

    /// The `quantile` (0…1) of the latencies recorded in the minute up to `now`, in
    /// milliseconds (the upper bound of its bucket), or nil with none recorded.
    func percentile(_ quantile: Double, now: Date) -> Double? {
        let current = Self.slotsInWindow(slots, now: now)
        let total = current.reduce(0) { $0 + $1.total }
        guard total > 0 else { return nil }
        let rank = max(1, Int((quantile * Double(total)).rounded(.up)))
        var seen = 0
        for bucket in 0..<Self.bucketCount {
            seen += current.reduce(0) { $0 + Int($1.counts[bucket]) }
            if seen >= rank { return Self.upperBound(of: bucket) }
        }
        return Self.upperBound(of: Self.bucketCount - 1)
    }

    /// How many latencies the minute up to `now` holds.
    func count(now: Date) -> Int {
        Self.slotsInWindow(slots, now: now).reduce(0) { $0 + $1.total }
    }

    private static func slotsInWindow(_ slots: [Slot], now: Date) -> [Slot] {
        let second = Int64(now.timeIntervalSince1970.rounded(.down))
        return slots.filter { $0.second > second - Int64(seconds) && $0.second <= second }
    }

    static func bucket(of milliseconds: Double) -> Int {
        guard milliseconds > smallest else { return 0 }
        return min(bucketCount - 1, Int((log(milliseconds / smallest) / log(growth)).rounded(.down)) + 1)
    }

    static func upperBound(of bucket: Int) -> Double {
        smallest * pow(growth, Double(bucket))
    }
}
