import Logging

/// What a ``RabbitMQConnection`` does on its work channel: publish with confirms
/// (``PublisherChannel``) or consume one queue (``ConsumerChannel``). The connection
/// supervises — it connects, declares the topology, serves the socket and reconnects — and
/// hands its work channel the events and the moments that belong to its role.
///
/// A work channel is created with its connection and used only on the connection's thread,
/// inside the actor's isolation: it is deliberately not `Sendable`.
protocol WorkChannel: AnyObject, SendableMetatype {
    /// The name of the connection's thread, and its `amqp.role` in the logs.
    var role: String { get }

    /// Logging metadata the connection adds to every line.
    var metadata: Logger.Metadata { get }

    /// Sets the channel up on a connection that has just opened it (confirms; or prefetch and
    /// the consumer), and sends again whatever the last connection left unconfirmed.
    func open(_ link: WorkLink) throws

    /// Handles an event of the work channel (a confirm, a delivery, the channel closed by the
    /// broker). Throws to drop the connection.
    func handle(_ event: AMQPEvent, _ link: WorkLink) throws

    /// Called after each turn of events, and with no link between connections: hands over
    /// what the turn read and does what is due by `now` (expiries, retries).
    func endTurn(_ link: WorkLink?, now: ContinuousClock.Instant) throws

    /// When ``endTurn(_:now:)`` is next due, if sooner than the connection's regular tick.
    var nextDeadline: ContinuousClock.Instant? { get }

    /// The connection is about to close; `graceful` when it was asked to.
    func willDisconnect(_ operations: any AMQPChannelOperations, channel: UInt16, graceful: Bool)

    /// The connection is gone; `generation` is the one the next connection will have.
    func connectionLost(generation: UInt64)

    /// The connection closed for good: fail or end whatever still waits.
    func finish(_ error: BrokerError)
}

/// What a work channel gets from its connection for one call.
struct WorkLink {
    /// The open connection.
    let operations: any AMQPChannelOperations
    /// The work channel's number.
    let channel: UInt16
    /// The live connection generation (deliveries carry it).
    let generation: UInt64
    /// Who settles the deliveries read over this connection.
    let acknowledger: any DeliveryAcknowledger
    /// Reads and handles the events already waiting in the socket: a publisher writing a
    /// long batch reads its confirms meanwhile, so they never pile up unread.
    let drainEvents: () throws -> Void
}

/// The calls a work channel makes on its connection. A protocol so the work channels are
/// unit-tested without a broker; ``AMQPConnectionHandle`` is the one real implementation.
protocol AMQPChannelOperations: AnyObject {
    /// Opens (or reopens) `channel`.
    func openChannel(_ channel: UInt16) throws
    /// Puts `channel` in confirm mode.
    func enableConfirms(on channel: UInt16) throws
    /// Sets the consumer prefetch of `channel`.
    func setPrefetch(_ count: UInt16, on channel: UInt16) throws
    /// Starts consuming `queue` on `channel`.
    func consume(queue: String, consumerTag: String, on channel: UInt16) throws
    /// Stops the consumer `consumerTag`.
    func cancel(consumerTag: String, on channel: UInt16) throws
    /// Writes one message.
    func publish(_ message: OutboundMessage, mandatory: Bool, on channel: UInt16) throws
}

extension AMQPConnectionHandle: AMQPChannelOperations {}
