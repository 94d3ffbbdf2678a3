public import Broker
import Contracts
import CoreMetrics
public import Logging
import Postgres
public import ServiceLifecycle
import Tracing

/// Consumes one queue: checks each delivery's envelope, applies events in batches through an
/// ``EventHandler`` (one transaction per batch, inbox included), and acknowledges only after
/// the handler returned, i.e. after the commit.
///
/// Nothing is lost and nothing loops:
/// - a malformed delivery (not JSON, no `message_id`, wrong content type, a type or data
///   version the handler does not accept: `EnvelopeCheck`) goes straight to the queue's
///   `.dlq`, with the reason in `x-mercato-error`;
/// - if a batch fails, its events are applied one by one, so one bad event cannot hold back
///   the others; an event the handler calls poison is dead-lettered at once;
/// - an unavailable database is waited out with backoff, without dead-lettering anything;
/// - any other failure sends the event to a delay queue (`RetryPolicy`): it comes back
///   after 1, 5, then 30 seconds with its attempt count in `x-mercato-attempt`, while the
///   consumer goes on with the rest; after `maxAttempts` it is dead-lettered
///   (`FailureRouter`).
public struct EventConsumer: Service {
    /// How the consumer batches and retries.
    public struct Configuration: Sendable {
        /// Unacknowledged deliveries held at most. Default 200.
        public var prefetch = 200
        /// Events applied in one transaction at most. Default 100.
        public var batchSize = 100
        /// Attempts at an event that keeps failing (not for an unavailable database) before
        /// it is dead-lettered. Default `RetryPolicy.maxAttempts` (5).
        public var maxAttempts = RetryPolicy.maxAttempts
        /// First wait while the database or broker is unavailable; doubles up to
        /// `maximumRetryDelay`. Default 100 ms.
        public var initialRetryDelay: Duration = .milliseconds(100)
        /// Longest such wait. Default 5 s.
        public var maximumRetryDelay: Duration = .seconds(5)
        /// Who may produce the events consumed. Default: each event type's family service
        /// (`order.created` from `order-service`), and no republishers.
        public var producers = ProducerPolicy(republishers: [])

        /// The defaults.
        public init() {}

        /// The wait before retry `attempt` (1-based) while a dependency is unavailable.
        func retryDelay(_ attempt: Int) -> Duration {
            min(initialRetryDelay * (1 << min(attempt - 1, 16)), maximumRetryDelay)
        }
    }

    /// The queue consumed.
    public let queue: String
    private let handler: any EventHandler
    private let broker: any Broker
    private let readiness: Readiness
    private let configuration: Configuration
    private let logger: Logger
    private let metrics: ServiceMetrics
    private let handlerDuration: CoreMetrics.Timer
    private let batchSize: Recorder
    private let envelope: EnvelopeCheck
    private let failures: FailureRouter

    /// Creates a consumer of `queue`; it starts once the database and the broker are ready.
    public init(
        queue: String, handler: any EventHandler, broker: any Broker, readiness: Readiness, serviceName: String,
        configuration: Configuration = .init(), metrics: ServiceMetrics = ServiceMetrics(), logger: Logger
    ) {
        self.queue = queue
        self.handler = handler
        self.broker = broker
        self.readiness = readiness
        self.configuration = configuration
        self.metrics = metrics
        self.handlerDuration = metrics.handlerDuration(queue: queue)
        self.batchSize = metrics.batchSize(queue: queue)
        self.envelope = EnvelopeCheck(accepting: handler.accepts, producers: configuration.producers)
        // Every series at zero from the start, so dashboards and alerts see 0, not "no data".
        for type in envelope.accepted.keys {
            _ = metrics.consumed(queue: queue, eventType: type)
            _ = metrics.retried(queue: queue, eventType: type)
            for reason in [ServiceMetrics.DeadLetterReason.poison, .exhausted, .malformed] {
                _ = metrics.deadLettered(queue: queue, eventType: type, reason: reason)
            }
        }
        _ = metrics.deadLettered(queue: queue, eventType: "unknown", reason: .malformed)
        var logger = logger
        logger[metadataKey: "amqp.queue"] = "\(queue)"
        self.logger = logger
        self.failures = FailureRouter(
            queue: queue, serviceName: serviceName, broker: broker, producers: configuration.producers, logger: logger,
            retryDelay: { [configuration] in configuration.retryDelay($0) })
        readiness.require(Readiness.consumer(queue))
    }

    public func run() async throws {
        await readiness.wait(for: [Readiness.database, Readiness.broker])
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        let consumer = try await broker.consume(queue: queue, prefetch: configuration.prefetch)
        readiness.markUp(Readiness.consumer(queue))
        logger.info("consuming")
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let batch = await consumer.next(max: configuration.batchSize)
                if batch.isEmpty { break }
                do {
                    try await process(batch)
                } catch {
                    // Cancelled mid-batch (shutting down): what was not acknowledged is
                    // redelivered to whoever consumes next.
                    break
                }
            }
        }
        await consumer.cancel()
        logger.info("stopped consuming")
    }

    /// Applies and settles one batch of deliveries.
    func process(_ deliveries: [Delivery]) async throws {
        var events: [(IncomingEvent, Delivery)] = []
        var spans: [any Span] = []
        for delivery in deliveries {
            switch envelope.validate(delivery) {
            case .success(let event):
                // A consumer span in the producer's trace; what the handler writes continues it.
                let span = Self.startSpan(for: event, queue: queue)
                var traced = event
                traced.traceparent = span.context.traceContext?.traceparent ?? event.traceparent
                events.append((traced, delivery))
                spans.append(span)
            case .failure(let poison):
                logger.warning("dead-lettering a malformed message", metadata: ["error.message": "\(poison.reason)"])
                try await failures.deadLetter(delivery, reason: poison.reason)
                countDeadLetter(.malformed, eventType: eventTypeLabel(delivery.properties.type))
            }
        }
        if !events.isEmpty {
            do {
                let start = ContinuousClock.now
                try await applyWaitingOutOutages(events.map(\.0))
                handlerDuration.recordNanoseconds(Int64((ContinuousClock.now - start) / .nanoseconds(1)))
                batchSize.record(events.count)
                countApplied(events.map(\.0))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if events.count > 1 {
                    logger.info(
                        "batch failed; applying its events one by one",
                        metadata: ["error.message": "\(error)", "batch.size": "\(events.count)"])
                }
                for ((event, delivery), span) in zip(events, spans) {
                    try await applyAlone(event, delivery, span: span)
                }
            }
        }
        for span in spans { span.end() }
        do {
            try await deliveries.last?.ack(multiple: true)
        } catch {
            // The connection went; the broker redelivers and the inbox absorbs the repeats.
            logger.debug("acknowledgement failed", metadata: ["error.message": "\(error)"])
        }
    }

    /// Starts the span of applying `event`: a consumer span, child of the event's trace
    /// context, or the root of a new trace for an event that came without one.
    static func startSpan(for event: IncomingEvent, queue: String) -> any Span {
        var context = InstrumentationContext.topLevel
        context.traceContext = event.traceparent.flatMap(TraceContext.init(traceparent:))
        let span = Tracing.startSpan("\(event.type) process", context: context, ofKind: .consumer)
        span.updateAttributes { attributes in
            attributes["messaging.system"] = "rabbitmq"
            attributes["messaging.operation.type"] = "process"
            attributes["messaging.destination.name"] = queue
            attributes["messaging.message.id"] = event.id
        }
        return span
    }

    /// Counts applied events by type, and logs each at `debug` with its trace.
    private func countApplied(_ applied: [IncomingEvent]) {
        var byType: [String: Int] = [:]
        for event in applied {
            byType[event.type, default: 0] += 1
            logger.debug(
                "event applied",
                metadata: [
                    "event.id": "\(event.id)", "event.type": "\(event.type)",
                    "trace.id": "\(event.traceparent.flatMap(TraceContext.init(traceparent:))?.traceID ?? "none")",
                ])
        }
        for (type, count) in byType { metrics.consumed(queue: queue, eventType: type).increment(by: count) }
    }

    private func countDeadLetter(_ reason: ServiceMetrics.DeadLetterReason, eventType: String) {
        metrics.deadLettered(queue: queue, eventType: eventType, reason: reason).increment()
    }

    /// A label for an event type from a delivery: only the types this queue carries, so a
    /// stream of junk cannot create a metric series per junk value.
    private func eventTypeLabel(_ type: String?) -> String {
        type.map { envelope.accepted[$0] != nil ? $0 : "unknown" } ?? "unknown"
    }

    /// One event on its own: applied, dead-lettered (poison, or out of attempts), or sent to
    /// wait in a delay queue for its next attempt; its span records a failure.
    private func applyAlone(_ event: IncomingEvent, _ delivery: Delivery, span: any Span) async throws {
        do {
            try await applyWaitingOutOutages([event])
            countApplied([event])
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            try await settleFailure(event, delivery, error: error)
        }
    }

    /// Dead-letters a failed event (poison, or out of attempts) or sends it to a delay queue.
    private func settleFailure(_ event: IncomingEvent, _ delivery: Delivery, error: any Error) async throws {
        let attempt = FailureRouter.attempt(of: delivery)
        if let poison = error as? PoisonMessage {
            logger.warning(
                "dead-lettering a poison event",
                metadata: ["event.id": "\(event.id)", "error.message": "\(poison.reason)"])
            try await failures.deadLetter(delivery, reason: poison.reason)
            countDeadLetter(.poison, eventType: event.type)
            return
        }
        guard attempt < configuration.maxAttempts else {
            logger.error(
                "event failed every attempt; dead-lettering it",
                metadata: ["event.id": "\(event.id)", "error.message": "\(error)", "attempts": "\(attempt)"])
            try await failures.deadLetter(delivery, reason: "failed \(attempt) times: \(error)")
            countDeadLetter(.exhausted, eventType: event.type)
            return
        }
        let delayQueue = try await failures.retryLater(delivery, reason: "\(error)", attempt: attempt)
        logger.warning(
            "event failed; retrying later",
            metadata: [
                "event.id": "\(event.id)", "error.message": "\(error)", "attempt": "\(attempt)",
                "amqp.retry_queue": "\(delayQueue)",
            ])
        metrics.retried(queue: queue, eventType: event.type).increment()
    }

    /// Applies `events`, waiting as long as it takes while the database is unavailable.
    private func applyWaitingOutOutages(_ events: [IncomingEvent]) async throws {
        var outage = 0
        while true {
            do {
                try await handler.apply(events)
                return
            } catch let error as PostgresError where error.isTransient {
                if outage == 0 {
                    logger.warning("database unavailable; waiting", metadata: ["error.message": "\(error)"])
                }
                try await Task.sleep(for: configuration.retryDelay(outage + 1))
                outage += 1
            }
        }
    }
}
