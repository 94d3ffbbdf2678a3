/// The `data` of a Mercato event: a Codable payload that knows its event type.
public protocol EventPayload: Codable, Sendable, Equatable {
    /// The event type, which also names the exchange and routing key.
    static var eventType: EventType { get }
    /// The version of the payload's shape, sent as the `dataversion` extension attribute.
    /// A consumer dead-letters versions it does not know instead of misreading them.
    static var dataVersion: String { get }
}

extension EventPayload {
    /// Every payload is at version 1 so far.
    public static var dataVersion: String { "1" }
}
