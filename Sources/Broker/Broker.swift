public import ServiceLifecycle

/// A message broker: declares topology, publishes with confirmation and consumes with
/// explicit acknowledgement.
///
/// A broker is a `Service`: its connections live inside `run()`, so a service puts
/// it in its `ServiceGroup` before everything that uses it and it closes after them.
/// Implementations recover by themselves: after a lost connection they reconnect with
/// backoff, declare every topology declared so far again, and resume every consumer. Callers
/// never rebuild anything.
public protocol Broker: Service {
    /// Declares exchanges, queues and bindings (idempotently) and remembers them, so that
    /// they are declared again after every reconnection.
    func declare(_ topology: Topology) async throws

    /// Publishes `messages` pipelined and returns once the broker has confirmed every one of
    /// them. Throws ``BrokerError/Code/publishFailed`` listing each message that was
    /// unroutable or refused for good (every other message of the batch was confirmed), or a
    /// transient error (``BrokerError/isTransient``) when the outcome is unknown. A nack is not
    /// a refusal for good: RabbitMQ nacks what a quorum queue could not take while its leader
    /// moved, so ``RabbitMQBroker`` sends such messages again a few times (for about 6 s) before
    /// it reports them nacked.
    func publish(_ messages: [OutboundMessage]) async throws

    /// Starts consuming `queue`, with at most `prefetch` unacknowledged deliveries in flight.
    /// Deliveries must be acknowledged (or rejected) by the caller.
    func consume(queue: String, prefetch: Int) async throws -> BrokerConsumer

    /// How many messages wait in `queue` (ready, not counting those delivered and not yet
    /// acknowledged) and how many consumers it has, asked of the broker without declaring
    /// anything (a passive `queue.declare`). Throws ``BrokerError/Code/channelClosed`` with
    /// reply code 404 if the queue does not exist.
    func inspect(queue: String) async throws -> QueueStatus

    /// Whether the broker is connected and every consumer is registered, as known now: it
    /// never waits (a readiness probe must answer at once, even while a connection is being
    /// re-established).
    var isReady: Bool { get }

    /// Closes every connection; pending publishes fail with ``BrokerError/Code/shutdown``,
    /// and `run()` returns.
    func shutdown() async
}

/// A queue's state as the broker reports it.
public struct QueueStatus: Sendable, Hashable {
    /// Messages ready for delivery.
    public var messageCount: Int
    /// Consumers subscribed.
    public var consumerCount: Int

    /// Creates a status.
    public init(messageCount: Int, consumerCount: Int) {
        self.messageCount = messageCount
        self.consumerCount = consumerCount
    }
}

extension Broker {
    /// Publishes one message and returns once the broker has confirmed it. Throws
    /// ``BrokerError/Code/unroutable`` when no queue received it and ``BrokerError/Code/nacked``
    /// when the broker refused it.
    public func publish(_ message: OutboundMessage) async throws {
        do {
            try await publish([message])
        } catch let error as BrokerError where error.code == .publishFailed && error.failures.count == 1 {
            let failure = error.failures[0]
            throw BrokerError(failure.code, failure.reason, messageID: failure.messageID)
        }
    }
}
