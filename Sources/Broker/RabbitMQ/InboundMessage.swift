import Foundation

/// A delivered message, copied out of rabbitmq-c's buffers.
struct InboundMessage: Sendable {
    var deliveryTag: UInt64
    var redelivered: Bool
    var exchange: String
    var routingKey: String
    var properties: MessageProperties
    var body: Data
}
