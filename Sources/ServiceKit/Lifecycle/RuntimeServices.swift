import ServiceLifecycle

/// The services a Mercato service runs, and the order its `ServiceGroup` starts them in. A
/// group stops its services in reverse order, each after the one before it has returned, so
/// what is started first stops last:
///
/// 1. the span exporter, so the last spans of everything else (a consumer's final batch,
///    the relay's last publish) are still sent at shutdown;
/// 2. the database (migrations, then the pool), which everything below uses;
/// 3. the outbox listener (`LISTEN`), which wakes the relay;
/// 4. the broker's connections;
/// 5. the topology declaration;
/// 6. the outbox relay, the metrics sampler and the service's own background services
///    (order-service's change feed), which use the database and the broker;
/// 7. the consumers, which stop first (after HTTP, which Hummingbird puts last), finishing
///    their batch while the broker and the database are still there.
struct RuntimeServices {
    var spanExporter: (any Service)?
    var database: any Service
    var outboxListener: (any Service)?
    var broker: any Service
    var topology: any Service
    var relay: any Service
    var sampler: any Service
    var background: [any Service] = []
    var consumers: [any Service]

    /// Dependencies first.
    var inStartOrder: [any Service] {
        (spanExporter.map { [$0] } ?? []) + [database] + (outboxListener.map { [$0] } ?? []) + [
            broker, topology, relay, sampler,
        ] + background + consumers
    }
}
