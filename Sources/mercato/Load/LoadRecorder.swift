import Foundation
import Histogram
import Locking

/// What the load clients share: the schedule, the answers and the HTTP latency histogram.
/// One lock, taken once per request; at a few thousand requests a second it is not contended
/// enough to matter next to a request's own cost.
final class LoadRecorder: Sendable {
    /// An order answered 201.
    struct Accepted: Sendable {
        var orderID: String
        var customer: Int
        var createdAt: Date
        /// Whether it also asked for a unit of the scarce product (`--scarce`).
        var scarce = false
    }

    private struct State {
        var issued = 0
        var accepted: [Accepted] = []
        var errors: [String: Int] = [:]
        var shed = 0
        var outOfStock = 0
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = Locked(State())
    let start: ContinuousClock.Instant
    let count: Int?
    let deadline: ContinuousClock.Instant
    /// Seconds between scheduled requests, or nil for as fast as the clients go.
    let interval: Double?

    init(count: Int?, duration: Duration, rate: Double?) {
        start = .now
        self.count = count
        deadline = count == nil ? start + duration : start + .seconds(86_400)
        interval = rate.map { 1 / $0 }
    }

    /// The next request's intended start, or nil when the run is over. With a target rate,
    /// requests are scheduled on a fixed timetable and their latency counts from the
    /// scheduled time: a stalled system then shows in the figures instead of silently
    /// slowing the clients down (coordinated omission).
    func nextSlot() -> ContinuousClock.Instant? {
        state.withLock { state -> ContinuousClock.Instant? in
            if let count, state.issued >= count { return nil }
            guard ContinuousClock.now < deadline else { return nil }
            defer { state.issued += 1 }
            guard let interval else { return .now }
            return start + .seconds(Double(state.issued) * interval)
        }
    }

    func record(latency: Duration, accepted: Accepted?, error: String?) {
        let microseconds = UInt64(
            max(0, latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000))
        state.withLock { state in
            _ = state.latency.record(microseconds)
            if let accepted { state.accepted.append(accepted) }
            if let error { state.errors[error, default: 0] += 1 }
        }
    }

    /// An order answered 503 `overloaded`: not placed, not an error, not a latency sample.
    func recordShed() {
        state.withLock { $0.shed += 1 }
    }

    /// An order answered 409 `out_of_stock`: refused at once, nothing written; not an error.
    func recordOutOfStock(latency: Duration) {
        record(latency: latency, accepted: nil, error: nil)
        state.withLock { $0.outOfStock += 1 }
    }

    var accepted: [Accepted] { state.withLock { $0.accepted } }
    var shed: Int { state.withLock { $0.shed } }
    var outOfStock: Int { state.withLock { $0.outOfStock } }
    var errors: [String: Int] { state.withLock { $0.errors } }
    var latency: Histogram<UInt64> { state.withLock { $0.latency } }
    var progress: (accepted: Int, errors: Int, p99: UInt64) {
        state.withLock { ($0.accepted.count, $0.errors.values.reduce(0, +), $0.latency.valueAtPercentile(99)) }
    }
}
