package import Broker
import Foundation
import MercatoTesting

/// The next delivery of `consumer`, or a ``TestFailure`` after `timeout`.
package func nextDelivery(_ consumer: BrokerConsumer, timeout: Duration = .seconds(20)) async throws -> Delivery {
    try await nextDeliveries(consumer, count: 1, timeout: timeout)[0]
}

/// Exactly `count` deliveries of `consumer` (read in batches), or a ``TestFailure`` after
/// `timeout`.
package func nextDeliveries(_ consumer: BrokerConsumer, count: Int, timeout: Duration = .seconds(30)) async throws
    -> [Delivery]
{
    let received = try await withDeadline(timeout, "\(count) deliveries on \(consumer.queue)") {
        var received: [Delivery] = []
        while received.count < count {
            let batch = await consumer.next(max: count - received.count)
            if batch.isEmpty { break }
            received += batch
        }
        return received
    }
    guard received.count == count else {
        throw TestFailure(
            "expected \(count) deliveries on \(consumer.queue), the consumer ended after \(received.count)")
    }
    return received
}

/// A small persistent JSON message with `id` as its `message_id`.
package func message(_ exchange: String, _ routingKey: String, id: String = UUID().uuidString, body: String = "{}")
    -> OutboundMessage
{
    OutboundMessage(
        exchange: exchange, routingKey: routingKey,
        properties: MessageProperties(contentType: "application/json", messageID: id, type: routingKey, appID: "tests"),
        body: Data(body.utf8))
}
