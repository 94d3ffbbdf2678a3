import Broker
import Contracts
import Foundation

/// The checks that decide whether a delivery is an event a handler may see at all: content
/// type, `message_id`, a CloudEvents 1.0 envelope whose id is the `message_id`, and a type
/// and data version the handler accepts, from a producer allowed to produce it
/// (``ProducerPolicy``). A delivery that fails one is poison: it is dead-lettered with the
/// reason, never retried.
struct EnvelopeCheck: Sendable {
    /// The versions accepted of each type.
    let accepted: [String: Set<String>]
    /// Who may produce what.
    let producers: ProducerPolicy

    init(accepting events: some Collection<AcceptedEvent>, producers: ProducerPolicy) {
        accepted = events.versionsByType
        self.producers = producers
    }

    /// The event, or why the delivery is not one.
    func validate(_ delivery: Delivery) -> Result<IncomingEvent, PoisonMessage> {
        let contentType = delivery.properties.contentType?.lowercased() ?? ""
        guard contentType.hasPrefix(CloudEventHeader.contentType) || contentType.hasPrefix("application/json") else {
            return .failure(
                PoisonMessage(
                    "content type \(contentType.isEmpty ? "missing" : contentType) is not \(CloudEventHeader.contentType)"
                ))
        }
        guard let messageID = delivery.properties.messageID, !messageID.isEmpty else {
            return .failure(PoisonMessage("message_id is missing: the event cannot be deduplicated"))
        }
        let header: CloudEventHeader
        do {
            header = try Self.decoder.decode(CloudEventHeader.self, from: delivery.body)
        } catch {
            return .failure(PoisonMessage("not a CloudEvents envelope: \(IncomingEvent.describe(error))"))
        }
        guard header.specversion == "1.0" else {
            return .failure(PoisonMessage("unsupported CloudEvents specversion \(header.specversion)"))
        }
        guard header.id == messageID else {
            return .failure(PoisonMessage("message_id \(messageID) differs from the event id \(header.id)"))
        }
        guard let versions = accepted[header.type] else {
            return .failure(PoisonMessage("unexpected event type \(header.type) on this queue"))
        }
        guard versions.contains(header.effectiveDataVersion) else {
            return .failure(PoisonMessage("unsupported data version \(header.effectiveDataVersion) of \(header.type)"))
        }
        if let refusal = producers.refusal(of: delivery, type: header.type) {
            return .failure(refusal)
        }
        return .success(
            IncomingEvent(
                id: header.id, type: header.type, source: header.source, time: header.time,
                traceparent: header.traceparent ?? delivery.properties.headers["traceparent"]?.stringValue,
                redelivered: delivery.redelivered, body: delivery.body))
    }

    private static let decoder = EventCoding.makeDecoder()
}
