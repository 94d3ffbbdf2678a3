/// The `data` of a Mercato event: a Codable payload that knows its event type.
public protocol EventPayload: Codable, Sendable, Equatable {
    /// The event type, which also names the exchange and routing key.
    static var eventType: EventType { get }
}
