import CoreMetrics
import Logging
public import Postgres
public import ServiceLifecycle

/// Samples the gauges nothing else updates as it goes: the outbox backlog and the age of its
/// oldest message (one indexed count query per interval), and the database pool's use.
public struct MetricsSampler: Service {
    private let chore: PeriodicChore

    /// Creates a sampler that reads every `interval` (default 2 s, a fraction of a usual
    /// Prometheus scrape interval).
    public init(
        outbox: any OutboxStore, database: PostgresClient, readiness: Readiness,
        metrics: ServiceMetrics = ServiceMetrics(),
        interval: Duration = .seconds(2)
    ) {
        let backlog = metrics.outboxBacklog
        let oldest = metrics.outboxOldestAge
        let inUse = metrics.databaseConnections(state: "in_use")
        let idle = metrics.databaseConnections(state: "idle")
        let waiting = metrics.databaseWaiting
        // One sample per run; it never fails (so never logs): while the database is away the
        // last outbox figures stand, and readiness says why.
        chore = PeriodicChore(
            "sampling metrics", readiness: readiness, interval: interval, logger: Logger(label: "mercato.metrics")
        ) {
            let pool = database.statistics
            inUse.record(pool.inUse)
            idle.record(pool.idle)
            waiting.record(pool.waiting)
            if let (count, age) = try? await outbox.backlog() {
                backlog.record(count)
                oldest.record(age)
            }
            return false
        }
    }

    public func run() async throws { try await chore.run() }
}
