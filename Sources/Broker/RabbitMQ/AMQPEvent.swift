import Foundation

/// Something the broker sent on a connection, decoded into Swift values by the C boundary.
enum AMQPEvent: Sendable {
    /// Publisher confirm: the broker took responsibility for `deliveryTag` (and, with
    /// `multiple`, every earlier tag).
    case ack(channel: UInt16, deliveryTag: UInt64, multiple: Bool)
    /// Negative publisher confirm.
    case nack(channel: UInt16, deliveryTag: UInt64, multiple: Bool)
    /// A mandatory message that matched no queue; its confirm follows.
    case returned(
        channel: UInt16, replyCode: Int, replyText: String, exchange: String, routingKey: String,
        properties: MessageProperties)
    /// A message for a consumer.
    case delivery(channel: UInt16, InboundMessage)
    /// The broker closed a channel (close-ok already sent).
    case channelClosed(channel: UInt16, replyCode: Int, replyText: String)
    /// The broker closed the connection (close-ok already sent).
    case connectionClosed(replyCode: Int, replyText: String)
    /// The broker cancelled a consumer, e.g. because its queue was deleted.
    case consumerCancelled(channel: UInt16)
    /// Flow control: the broker stopped reading from this connection.
    case blocked(reason: String)
    /// Flow control lifted.
    case unblocked
    /// Anything else (a stray frame); nothing to do.
    case ignored
}
