import Foundation
import Logging

/// A consuming connection's work channel: one consumer on one queue, with a prefetch. The
/// deliveries a turn of the connection reads are handed to the ``DeliveryBuffer`` together;
/// those of a lost connection are dropped (the broker delivers them again), and a consumer
/// the broker cancels (its queue deleted) drops the connection, so it consumes anew.
final class ConsumerChannel: WorkChannel {
    let role = "consumer"
    var metadata: Logger.Metadata { ["amqp.role": "consumer", "amqp.queue": "\(queue)"] }
    /// The queue consumed.
    let queue: String
    private let prefetch: UInt16
    private let buffer: DeliveryBuffer
    /// Prefixes the consumer tag, so the management UI shows whose consumer it is.
    private let connectionName: String
    /// The live consumer's tag; none between connections.
    private(set) var consumerTag: String?
    /// Deliveries read in the current turn.
    private var received: [Delivery] = []

    /// Creates the channel for `queue`, handing deliveries to `buffer`.
    init(queue: String, prefetch: UInt16, buffer: DeliveryBuffer, connectionName: String) {
        self.queue = queue
        self.prefetch = prefetch
        self.buffer = buffer
        self.connectionName = connectionName
    }

    func open(_ link: WorkLink) throws {
        let tag = "\(connectionName).\(UUID().uuidString.prefix(8).lowercased())"
        try link.operations.setPrefetch(prefetch, on: link.channel)
        try link.operations.consume(queue: queue, consumerTag: tag, on: link.channel)
        consumerTag = tag
    }

    func handle(_ event: AMQPEvent, _ link: WorkLink) throws {
        switch event {
        case .delivery(_, let message):
            received.append(
                Delivery(
                    queue: queue, exchange: message.exchange, routingKey: message.routingKey,
                    redelivered: message.redelivered, deliveryTag: message.deliveryTag,
                    properties: message.properties, body: message.body, acknowledger: link.acknowledger,
                    generation: link.generation))
        case .channelClosed(_, let replyCode, let replyText):
            throw BrokerError(.channelClosed, replyText, replyCode: replyCode)
        case .consumerCancelled:
            throw BrokerError(.channelClosed, "the broker cancelled the consumer (queue deleted?)")
        case .ack, .nack, .returned, .connectionClosed, .blocked, .unblocked, .ignored:
            break
        }
    }

    func endTurn(_ link: WorkLink?, now: ContinuousClock.Instant) throws {
        guard !received.isEmpty else { return }
        buffer.push(contentsOf: received)
        received.removeAll(keepingCapacity: true)
    }

    var nextDeadline: ContinuousClock.Instant? { nil }

    func willDisconnect(_ operations: any AMQPChannelOperations, channel: UInt16, graceful: Bool) {
        guard graceful, let consumerTag else { return }
        // Cancel first so no new delivery arrives while the connection closes.
        try? operations.cancel(consumerTag: consumerTag, on: channel)
    }

    func connectionLost(generation: UInt64) {
        consumerTag = nil
        // Read over the lost connection: they can no longer be acknowledged, and the broker
        // delivers them again.
        received.removeAll()
        buffer.dropDeliveries(before: generation)
    }

    func finish(_ error: BrokerError) {
        buffer.finish()
    }
}
