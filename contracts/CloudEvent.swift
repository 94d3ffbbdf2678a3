public import Foundation

/// A CloudEvents 1.0 envelope in structured JSON mode (`application/cloudevents+json`).
///
/// The same envelope goes on the wire for every event; `data` is the typed payload. The
/// distributed-tracing extension attribute `traceparent` carries the W3C trace context.
public struct CloudEvent<Payload: EventPayload>: Codable, Sendable, Equatable {
    /// Always `1.0`.
    public var specversion: String
    /// Unique per event; also the AMQP `message_id` and the consumers' inbox key.
    public var id: String
    /// The producing service, e.g. `/mercato/order-service`.
    public var source: String
    /// The event type, e.g. `order.created`.
    public var type: String
    /// When the event happened (RFC 3339).
    public var time: Date
    /// Content type of `data`: `application/json`.
    public var datacontenttype: String
    /// The entity the event is about, e.g. the order id.
    public var subject: String?
    /// W3C trace context of the operation that caused the event.
    public var traceparent: String?
    /// Extension attribute: the version of `data`'s shape (``EventPayload/dataVersion``).
    public var dataversion: String?
    /// The payload.
    public var data: Payload

    /// Creates an envelope for `data`, with a fresh id unless one is given.
    public init(
        id: String = UUID.timeOrdered().uuidString.lowercased(),
        source: String,
        time: Date = Date(),
        subject: String? = nil,
        traceparent: String? = nil,
        data: Payload
    ) {
        self.specversion = "1.0"
        self.id = id
        self.source = source
        self.type = Payload.eventType.name
        self.time = time
        self.datacontenttype = "application/json"
        self.subject = subject
        self.traceparent = traceparent
        self.dataversion = Payload.dataVersion
        self.data = data
    }

    /// The CloudEvents structured-mode content type, also the AMQP `content_type`.
    public static var contentType: String { CloudEventHeader.contentType }
}

/// The attributes of an envelope without its payload, decoded first so a consumer can check
/// `specversion` and `type` before it trusts `data`.
public struct CloudEventHeader: Codable, Sendable, Equatable {
    /// The CloudEvents version.
    public var specversion: String
    /// The event id.
    public var id: String
    /// The producing service.
    public var source: String
    /// The event type.
    public var type: String
    /// When the event happened.
    public var time: Date
    /// The subject, if any.
    public var subject: String?
    /// The trace context, if any.
    public var traceparent: String?
    /// The payload's version, if given.
    public var dataversion: String?

    /// The CloudEvents structured-mode content type of every envelope, whatever its payload.
    public static let contentType = "application/cloudevents+json"

    /// The version of `data`: `dataversion`, or "1" when absent (an envelope from before the
    /// attribute, or from a producer that never versions).
    public var effectiveDataVersion: String { dataversion ?? "1" }
}
