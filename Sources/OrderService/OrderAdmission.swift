import CoreMetrics
import Locking
package import ServiceKit

/// Admission control for new orders: order-service admits only what the pipeline behind it
/// settles in time, and answers the rest `503` with `Retry-After` before doing any work.
///
/// The signal is the one the promise is about: how long orders take from acceptance to being
/// marked invoiced, as this replica sees them come back (``record(tripMilliseconds:at:)``,
/// from `invoice.created`). Like CoDel it looks at the time work spent waiting, not at a
/// queue length, so it needs no knowledge of prefetch windows, batch sizes or how many
/// replicas share the queues; and like CoDel it judges an interval by its *fastest* trip:
/// a burst makes some orders slow, but only a standing backlog makes every order slow, and
/// only a backlog is worth shedding for (measured: judging by the median shed a quarter of
/// the orders of a saturated but keeping-up system and halved its throughput). Every
/// ``Configuration/interval`` it compares the interval's fastest trip with
/// ``Configuration/target``: above it, the share of orders admitted shrinks
/// by a quarter (never below ``Configuration/minimumShare``, so trips keep being measured);
/// at or below it, the share grows back by a tenth. An interval with fewer than
/// ``Configuration/minimumTrips`` trips counts as in time: shedding is for a pipeline that
/// is busy, and at a few orders a second one slow order is noise, not a backlog. An outage
/// therefore never closes the door by itself either: with nothing coming back there is
/// nothing to say the pipeline is slow, and orders keep being taken (and settle later).
///
/// Admission is deterministic for a given share (a credit counter, not a coin): at share
/// 0.5 every other order is admitted, starting with the first.
package final class OrderAdmission: Sendable {
    /// When orders are shed.
    package struct Configuration: Sendable {
        /// `ADMISSION_TARGET_MS`: the standing backlog, as the fastest order→invoiced trip of
        /// an interval, above which new orders are shed. Default 1000 ms: a backlog of a
        /// second or more (a start-up transient, the catch-up after an outage), not the
        /// 0.1–0.6 s trips of a saturated system that keeps up — on the 2-core reference
        /// machine a 500 ms target shed 1,794 orders of a 45 s saturation run for no gain in
        /// rate or tail (benchmarks/README.md). 0 turns shedding off.
        package var target: Duration = .milliseconds(1000)
        /// How often the admitted share is adjusted. Default 250 ms.
        package var interval: Duration = .milliseconds(250)
        /// The least share admitted while shedding. Default 0.1.
        package var minimumShare = 0.1
        /// The fewest trips an interval needs to be judged. Default 20 (80 orders/s at
        /// the default interval).
        package var minimumTrips = 20

        /// The defaults.
        package init() {}

        /// Whether orders are ever shed.
        package var isEnabled: Bool { target > .zero }
    }

    private struct State {
        var share = 1.0
        var credit = 0.0
        var intervalStart: ContinuousClock.Instant?
        /// Trips of the current interval and the fastest, in milliseconds.
        var trips = 0
        var fastest = Double.infinity
        var shed = 0
    }

    private let configuration: Configuration
    private let state = Locked(State())
    private let metrics: ServiceMetrics

    /// Creates the admission control; it reports what it sheds through `metrics`.
    package init(configuration: Configuration = Configuration(), metrics: ServiceMetrics = ServiceMetrics()) {
        self.configuration = configuration
        self.metrics = metrics
        // On /metrics from the first scrape, not from the first shed order.
        metrics.admissionShare.record(1.0)
        metrics.requestsShed.increment(by: 0)
    }

    /// The share of new orders admitted now, 0…1.
    package var share: Double { state.withLock { $0.share } }

    /// How many orders were shed since the service started.
    package var shedCount: Int { state.withLock { $0.shed } }

    /// Records orders marked invoiced `tripMilliseconds` after they were accepted.
    package func record(tripMilliseconds trips: [Double], at now: ContinuousClock.Instant = .now) {
        guard configuration.isEnabled, !trips.isEmpty else { return }
        state.withLock { state in
            adjust(&state, now: now)
            state.trips += trips.count
            state.fastest = min(state.fastest, trips.min()!)
        }
    }

    /// Whether to take a new order now; false means answer 503.
    package func admit(at now: ContinuousClock.Instant = .now) -> Bool {
        guard configuration.isEnabled else { return true }
        let (admitted, share, adjusted) = state.withLock { state in
            let adjusted = adjust(&state, now: now)
            // Owing at most one order: the first after a change of share is admitted.
            state.credit += state.share
            guard state.credit >= 0 else {
                state.shed += 1
                return (false, state.share, adjusted)
            }
            state.credit -= 1
            return (true, state.share, adjusted)
        }
        if adjusted { metrics.admissionShare.record(share) }
        if !admitted { metrics.requestsShed.increment() }
        return admitted
    }

    /// Closes the intervals that ended before `now`: the first judges its trips, the empty
    /// ones after it (no trips came back) count as under target.
    @discardableResult
    private func adjust(_ state: inout State, now: ContinuousClock.Instant) -> Bool {
        guard let start = state.intervalStart else {
            state.intervalStart = now
            return false
        }
        let elapsed = now - start
        guard elapsed >= configuration.interval else { return false }
        // The first interval judges its trips; those after it had none (nothing came back)
        // and each counts as in time (at most 20 are caught up).
        let closed = min(20, Int(elapsed / configuration.interval))
        if state.trips >= configuration.minimumTrips, state.fastest > configuration.target / .milliseconds(1) {
            state.share = max(configuration.minimumShare, state.share * 0.75)
        } else {
            state.share = min(1, state.share + 0.1)
        }
        state.share = min(1, state.share + 0.1 * Double(closed - 1))
        (state.trips, state.fastest) = (0, .infinity)
        state.intervalStart = now
        if state.share == 1 { state.credit = 0 }
        return true
    }
}
