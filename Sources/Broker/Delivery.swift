public import Foundation

/// A message delivered to a consumer. It stays the consumer's until it is acknowledged,
/// negatively acknowledged or rejected; if the consumer's connection goes first, the broker
/// delivers it again with ``redelivered`` set.
public struct Delivery: Sendable {
    /// The queue it was consumed from.
    public let queue: String
    /// The exchange it was published to.
    public let exchange: String
    /// The routing key it was published with.
    public let routingKey: String
    /// Whether the broker delivered it before (to this or another consumer).
    public let redelivered: Bool
    /// The channel-scoped delivery tag.
    public let deliveryTag: UInt64
    /// The message's properties.
    public let properties: MessageProperties
    /// The body.
    public let body: Data

    package let acknowledger: any DeliveryAcknowledger
    package let generation: UInt64

    /// Creates a delivery; brokers (and the in-memory one in BrokerTesting) make them.
    package init(
        queue: String, exchange: String, routingKey: String, redelivered: Bool, deliveryTag: UInt64,
        properties: MessageProperties, body: Data, acknowledger: any DeliveryAcknowledger, generation: UInt64
    ) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.deliveryTag = deliveryTag
        self.properties = properties
        self.body = body
        self.acknowledger = acknowledger
        self.generation = generation
    }

    /// Acknowledges this delivery (and with `multiple`, every earlier one of its consumer).
    public func ack(multiple: Bool = false) async throws {
        try await acknowledger.settle(.ack(multiple: multiple), deliveryTag: deliveryTag, generation: generation)
    }

    /// Negatively acknowledges this delivery: back to the queue with `requeue`, otherwise to
    /// the queue's dead-letter exchange (or dropped if it has none).
    public func nack(requeue: Bool, multiple: Bool = false) async throws {
        try await acknowledger.settle(
            .nack(multiple: multiple, requeue: requeue), deliveryTag: deliveryTag, generation: generation)
    }

    /// Rejects this delivery; like ``nack(requeue:multiple:)`` for a single message.
    public func reject(requeue: Bool) async throws {
        try await acknowledger.settle(.reject(requeue: requeue), deliveryTag: deliveryTag, generation: generation)
    }
}

/// How a delivery is settled.
package enum Settlement: Sendable, Equatable {
    case ack(multiple: Bool)
    case nack(multiple: Bool, requeue: Bool)
    case reject(requeue: Bool)
}

/// Settles deliveries on the connection (or in-memory queue) they came from.
package protocol DeliveryAcknowledger: Sendable {
    /// Settles the delivery `deliveryTag` received over connection `generation`; throws
    /// ``BrokerError/Code/staleDelivery`` if that connection is gone.
    func settle(_ settlement: Settlement, deliveryTag: UInt64, generation: UInt64) async throws
}
