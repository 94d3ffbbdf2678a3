import CoreMetrics
public import Postgres
public import ServiceLifecycle

/// Samples the gauges nothing else updates as it goes: the outbox backlog and the age of its
/// oldest message (one indexed count query per interval), and the database pool's use.
public struct MetricsSampler: Service {
    private let outbox: any OutboxStore
    private let database: PostgresClient
    private let readiness: Readiness
    private let metrics: ServiceMetrics
    private let interval: Duration

    /// Creates a sampler that reads every `interval` (default 2 s, a fraction of a usual
    /// Prometheus scrape interval).
    public init(
        outbox: any OutboxStore, database: PostgresClient, readiness: Readiness, metrics: ServiceMetrics = ServiceMetrics(),
        interval: Duration = .seconds(2)
    ) {
        self.outbox = outbox
        self.database = database
        self.readiness = readiness
        self.metrics = metrics
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            let backlog = metrics.outboxBacklog
            let oldest = metrics.outboxOldestAge
            let inUse = metrics.databaseConnections(state: "in_use")
            let idle = metrics.databaseConnections(state: "idle")
            let waiting = metrics.databaseWaiting
            await readiness.wait(for: [Readiness.database])
            while !Task.isCancelled {
                let pool = database.statistics
                inUse.record(pool.inUse)
                idle.record(pool.idle)
                waiting.record(pool.waiting)
                // While the database is away the last figures stand; readiness says why.
                if let (count, age) = try? await outbox.backlog() {
                    backlog.record(count)
                    oldest.record(age)
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
