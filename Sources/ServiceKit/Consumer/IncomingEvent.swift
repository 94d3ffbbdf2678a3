public import Contracts
public import Foundation

/// A delivered event that passed the envelope checks: the consumer knows its id and type
/// and trusts the rest only once a handler decodes the payload.
public struct IncomingEvent: Sendable {
    /// The event id (`message_id`): the inbox key.
    public let id: String
    /// The event type.
    public let type: String
    /// The producer.
    public let source: String
    /// When it happened.
    public let time: Date
    /// W3C trace context of the operation that caused it; while the event is applied, the
    /// consumer's own span in that trace, so the events a handler writes continue it.
    public var traceparent: String?
    /// Whether the broker delivered it before.
    public let redelivered: Bool
    /// The whole CloudEvents envelope.
    public let body: Data

    /// Creates an event (consumers and tests).
    public init(
        id: String, type: String, source: String, time: Date, traceparent: String?, redelivered: Bool, body: Data
    ) {
        self.id = id
        self.type = type
        self.source = source
        self.time = time
        self.traceparent = traceparent
        self.redelivered = redelivered
        self.body = body
    }

    /// Creates the event of `envelope` as it would arrive (tests).
    public init<Payload: EventPayload>(_ envelope: CloudEvent<Payload>, redelivered: Bool = false) throws {
        self.init(
            id: envelope.id, type: envelope.type, source: envelope.source, time: envelope.time,
            traceparent: envelope.traceparent, redelivered: redelivered,
            body: try EventCoding.makeEncoder().encode(envelope))
    }

    /// Decodes the payload; a payload that does not decode makes the event a poison message.
    public func decode<Payload: EventPayload>(_ type: Payload.Type) throws -> CloudEvent<Payload> {
        do {
            return try Self.decoder.decode(CloudEvent<Payload>.self, from: body)
        } catch {
            throw PoisonMessage("the \(self.type) payload does not decode: \(Self.describe(error))")
        }
    }

    private static let decoder = EventCoding.makeDecoder()

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context): return "wrong type at \(path(context.codingPath))"
        case .valueNotFound(_, let context): return "null at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// An event that can never be applied (malformed, unknown, or naming something that does
/// not exist): it goes to the dead-letter queue with `reason`, instead of being retried.
public struct PoisonMessage: Error, CustomStringConvertible, Sendable {
    /// Why, as stored in the dead letter's `x-mercato-error` header.
    public var reason: String

    /// Creates the error.
    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}
