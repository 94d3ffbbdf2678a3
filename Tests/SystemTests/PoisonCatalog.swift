import Broker
import Contracts
import Foundation

/// Messages that no consumer can apply, each with the reason the
/// consumer must give in the dead letter's `x-mercato-error` header.
enum PoisonCatalog {
    struct Poison: Sendable {
        let name: String
        let message: OutboundMessage
        /// A part of the expected `x-mercato-error`.
        let reason: String
    }

    /// One of each kind of bad input on the `order.created` key, tagged with `tag` so runs do
    /// not collide.
    static func all(tag: String) throws -> [Poison] {
        let event = CloudEvent(
            source: "/tests/poison",
            data: OrderCreated(
                orderID: UUID(), customerID: UUID(uuidString: OrderFlowSystemTests.seeds[0])!,
                items: [OrderLine(productName: "Poison", quantity: 1, unitPrice: Money("1.00")!)],
                total: Money("1.00")!, createdAt: Date()))
        return try all(tag: tag, like: event)
    }

    /// One of each kind of bad input, each a corruption of `event` sent where `event` goes.
    static func all<Payload: EventPayload>(tag: String, like event: CloudEvent<Payload>) throws -> [Poison] {
        let valid = try JSONSerialization.jsonObject(with: EventCoding.makeEncoder().encode(event)) as! [String: Any]
        let type = Payload.eventType

        func message(_ id: String?, contentType: String = CloudEvent<OrderCreated>.contentType, body: Data)
            -> OutboundMessage
        {
            OutboundMessage(
                exchange: type.exchange, routingKey: type.name,
                properties: MessageProperties(
                    contentType: contentType, messageID: id, type: type.name, appID: "poison"),
                body: body)
        }
        func envelope(_ id: String, _ change: (inout [String: Any]) -> Void) throws -> Data {
            var object = valid
            object["id"] = id
            change(&object)
            return try JSONSerialization.data(withJSONObject: object)
        }
        let wellFormed = try JSONSerialization.data(withJSONObject: valid)
        return [
            Poison(
                name: "malformed JSON",
                message: message("\(tag)-malformed", body: Data(#"{"specversion":"1.0","id":"#.utf8)),
                reason: "not a CloudEvents envelope"),
            Poison(
                name: "wrong type",
                message: message("\(tag)-type", body: try envelope("\(tag)-type") { $0["type"] = "order.shipped" }),
                reason: "unexpected event type order.shipped"),
            Poison(
                name: "unknown event version",
                message: message("\(tag)-version", body: try envelope("\(tag)-version") { $0["dataversion"] = "99" }),
                reason: "unsupported data version 99"),
            Poison(
                name: "missing message_id", message: message(nil, body: wellFormed), reason: "message_id is missing"),
            Poison(
                name: "wrong content type",
                message: message(
                    "\(tag)-content", contentType: "text/plain", body: try envelope("\(tag)-content") { _ in }),
                reason: "content type text/plain"),
            Poison(
                name: "payload of the wrong shape",
                message: message(
                    "\(tag)-shape",
                    body: try envelope("\(tag)-shape") { $0["data"] = ["three": "teas"] }),
                reason: "payload does not decode"),
        ]
    }
}
