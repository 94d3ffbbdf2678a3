public import Foundation

/// A message to publish: where it goes, its properties and its body.
///
/// Every publish is `mandatory`: a message that no queue receives is reported as
/// ``BrokerError/Code/unroutable`` rather than silently dropped.
public struct OutboundMessage: Sendable, Hashable {
    /// The exchange to publish to (`""` is the default exchange).
    public var exchange: String
    /// The routing key.
    public var routingKey: String
    /// The message's properties.
    public var properties: MessageProperties
    /// The body.
    public var body: Data

    /// Creates a message.
    public init(exchange: String, routingKey: String, properties: MessageProperties = MessageProperties(), body: Data) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }

    /// The id that errors use to name this message: its `message_id`, or where it went.
    package var displayID: String {
        properties.messageID ?? "\(exchange)/\(routingKey)"
    }
}
