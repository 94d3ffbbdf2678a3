public import Broker
public import Contracts
public import Foundation

/// An event waiting in a service's outbox: written in the same transaction as the state change
/// it announces, published later by the ``OutboxRelay``.
public struct OutboxMessage: Sendable, Hashable {
    /// The event id, also the AMQP `message_id` and the consumers' inbox key.
    public var id: String
    /// The event type (routing key).
    public var eventType: String
    /// The exchange to publish to.
    public var exchange: String
    /// The CloudEvents JSON envelope.
    public var body: Data
    /// W3C trace context, sent as the `traceparent` header.
    public var traceparent: String?
    /// When the event was created.
    public var createdAt: Date
    /// The producing service (`app_id`).
    public var appID: String

    /// Creates a message from its parts.
    public init(
        id: String, eventType: String, exchange: String, body: Data, traceparent: String?, createdAt: Date,
        appID: String
    ) {
        self.id = id
        self.eventType = eventType
        self.exchange = exchange
        self.body = body
        self.traceparent = traceparent
        self.createdAt = createdAt
        self.appID = appID
    }

    /// Encodes `event` for the outbox.
    public init<Payload: EventPayload>(_ event: CloudEvent<Payload>, appID: String) throws {
        self.init(
            id: event.id, eventType: event.type, exchange: Payload.eventType.exchange,
            body: try Self.encoder.encode(event), traceparent: event.traceparent, createdAt: event.time, appID: appID)
    }

    private static let encoder = EventCoding.makeEncoder()

    /// The AMQP message: persistent, with the CloudEvents attributes mapped onto AMQP
    /// properties so the management UI and other tools can read them without the body.
    public var amqpMessage: OutboundMessage {
        var headers: [String: HeaderValue] = [:]
        if let traceparent { headers["traceparent"] = .string(traceparent) }
        return OutboundMessage(
            exchange: exchange, routingKey: eventType,
            properties: MessageProperties(
                contentType: CloudEventHeader.contentType, messageID: id, type: eventType, appID: appID,
                timestamp: createdAt, persistent: true, headers: headers),
            body: body)
    }
}
