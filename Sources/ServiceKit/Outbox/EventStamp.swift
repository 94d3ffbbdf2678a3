public import Contracts
public import Foundation

/// Who a service's events come from: the CloudEvents `source` and the AMQP `app_id`. Every
/// repository of a service stamps its outbox messages with the same one.
public struct EventStamp: Sendable, Hashable {
    /// The CloudEvents `source`, e.g. `/mercato/order-service`.
    public var source: String
    /// The AMQP `app_id`: the service's name.
    public var appID: String

    /// Creates a stamp.
    public init(source: String, appID: String) {
        self.source = source
        self.appID = appID
    }

    /// The stamp of the service named `serviceName`: source `/mercato/<name>`.
    public init(serviceName: String) {
        self.init(source: "/mercato/\(serviceName)", appID: serviceName)
    }

    /// `payload` as an outbox message from this service, about `subject` (an id), caused by
    /// the operation of `traceparent`.
    public func message<Payload: EventPayload>(
        _ payload: Payload, subject: UUID? = nil, time: Date, traceparent: String? = nil
    ) throws -> OutboxMessage {
        try OutboxMessage(
            CloudEvent(
                source: source, time: time, subject: subject?.uuidString.lowercased(), traceparent: traceparent,
                data: payload),
            appID: appID)
    }
}
