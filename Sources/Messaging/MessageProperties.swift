public import Foundation

/// The AMQP `basic` properties of a message that Mercato uses.
public struct MessageProperties: Hashable, Sendable {
    /// MIME type of the body, e.g. `application/cloudevents+json`.
    public var contentType: String?
    /// Unique id of the message; Mercato uses the event id.
    public var messageID: String?
    /// Application message type; Mercato uses the event type.
    public var type: String?
    /// The publishing application.
    public var appID: String?
    /// The broker user that published the message. The RabbitMQ ``Broker`` sets it on every
    /// publish to its connection's user, and RabbitMQ refuses a publish whose `user_id`
    /// differs from the connection's: so on a delivery it names the sender, vouched for by
    /// the broker. `nil` when the sender did not set it (unverified).
    public var userID: String?
    /// When the message was published (AMQP timestamps have whole seconds).
    public var timestamp: Date?
    /// Correlates a reply or a retried message with its origin.
    public var correlationID: String?
    /// Per-message TTL in milliseconds, as text (AMQP `expiration`).
    public var expiration: String?
    /// Survives a broker restart when routed to a durable queue. Default `true`.
    public var persistent: Bool
    /// Application headers.
    public var headers: [String: HeaderValue]

    /// Creates properties; messages are persistent unless told otherwise.
    public init(
        contentType: String? = nil,
        messageID: String? = nil,
        type: String? = nil,
        appID: String? = nil,
        userID: String? = nil,
        timestamp: Date? = nil,
        correlationID: String? = nil,
        expiration: String? = nil,
        persistent: Bool = true,
        headers: [String: HeaderValue] = [:]
    ) {
        self.contentType = contentType
        self.messageID = messageID
        self.type = type
        self.appID = appID
        self.userID = userID
        self.timestamp = timestamp
        self.correlationID = correlationID
        self.expiration = expiration
        self.persistent = persistent
        self.headers = headers
    }
}
