public import CoreMetrics

/// The metrics a Mercato service reports, by name, in one place (Prometheus names: what a
/// dashboard or an alert refers to). HTTP requests are counted and timed by Hummingbird's
/// `MetricsMiddleware`, renamed by `Observability.metricsFactory` to `http_server_requests_total`,
/// `http_server_request_errors_total` and `http_server_request_duration_seconds`.
///
/// Metrics are made through `factory` rather than the global system, so a unit test can read
/// what a consumer or relay counted from a registry of its own.
public struct ServiceMetrics: Sendable {
    /// Why a message was dead-lettered: the `reason` label.
    public enum DeadLetterReason: String, Sendable {
        /// Not an event at all: envelope, message id, content type, type or version wrong.
        case malformed
        /// An event the handler refused for good (it names something that does not exist).
        case poison
        /// Failed every attempt.
        case exhausted
    }

    private let factory: any MetricsFactory

    /// Metrics made by `factory`; the process-wide one (Prometheus, once bootstrapped) by default.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// Events confirmed by the broker, by type: `mercato_events_published_total`.
    public func published(eventType: String) -> Counter {
        Counter(label: "mercato_events_published_total", dimensions: [("event_type", eventType)], factory: factory)
    }

    /// Events applied and acknowledged: `mercato_events_consumed_total`.
    public func consumed(queue: String, eventType: String) -> Counter {
        Counter(
            label: "mercato_events_consumed_total", dimensions: [("queue", queue), ("event_type", eventType)],
            factory: factory)
    }

    /// Events sent to a delay queue for another attempt: `mercato_events_retried_total`.
    public func retried(queue: String, eventType: String) -> Counter {
        Counter(
            label: "mercato_events_retried_total", dimensions: [("queue", queue), ("event_type", eventType)],
            factory: factory)
    }

    /// Messages moved to the queue's `.dlq`: `mercato_events_dead_lettered_total`. The event
    /// type of a malformed message is `unknown`.
    public func deadLettered(queue: String, eventType: String, reason: DeadLetterReason) -> Counter {
        Counter(
            label: "mercato_events_dead_lettered_total",
            dimensions: [("queue", queue), ("event_type", eventType), ("reason", reason.rawValue)],
            factory: factory)
    }

    /// Time to apply one batch of events (one transaction): `mercato_event_handler_duration_seconds`.
    public func handlerDuration(queue: String) -> CoreMetrics.Timer {
        Timer(label: "mercato_event_handler_duration_seconds", dimensions: [("queue", queue)], factory: factory)
    }

    /// Events per applied batch: `mercato_event_batch_size`.
    public func batchSize(queue: String) -> Recorder {
        Recorder(label: "mercato_event_batch_size", dimensions: [("queue", queue)], aggregate: true, factory: factory)
    }

    /// Outbox messages not yet confirmed by the broker: `mercato_outbox_backlog`.
    public var outboxBacklog: Gauge { Gauge(label: "mercato_outbox_backlog", factory: factory) }

    /// Age of the oldest unpublished outbox message: `mercato_outbox_oldest_age_seconds`.
    public var outboxOldestAge: Gauge { Gauge(label: "mercato_outbox_oldest_age_seconds", factory: factory) }

    /// Database connections of the pool, `state` `in_use` or `idle`: `mercato_db_pool_connections`.
    public func databaseConnections(state: String) -> Gauge {
        Gauge(label: "mercato_db_pool_connections", dimensions: [("state", state)], factory: factory)
    }

    /// Callers waiting for a database connection: `mercato_db_pool_waiting`.
    public var databaseWaiting: Gauge { Gauge(label: "mercato_db_pool_waiting", factory: factory) }

    /// Requests answered 503 by admission control before any work: `mercato_requests_shed_total`.
    public var requestsShed: Counter { Counter(label: "mercato_requests_shed_total", factory: factory) }

    /// The share of requests admission control lets in, 0…1: `mercato_admission_share`.
    public var admissionShare: Gauge { Gauge(label: "mercato_admission_share", factory: factory) }
}
