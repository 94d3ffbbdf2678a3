package import Broker
import Contracts
import Foundation
import MercatoTesting
import Testing

/// Behaviour every ``Broker`` must show, checked against RabbitMQ and against
/// `InMemoryBroker`, so the unit-test double cannot drift from the real thing. Each check
/// expects a running broker.
package enum BrokerSemantics {
    /// Every check, in turn.
    package static func all(_ broker: any Broker) async throws {
        try await topicRouting(broker)
        try await unroutable(broker)
        try await deadLettering(broker)
        try await redelivery(broker)
        try await prefetch(broker)
        try await inspection(broker)
    }

    /// A message reaches exactly the queues whose patterns match its routing key.
    package static func topicRouting(_ broker: any Broker) async throws {
        let exchange = uniqueName("topic")
        let (a, b, c) = (exchange + ".a", exchange + ".b", exchange + ".c")
        try await broker.declare(
            Topology(
                exchanges: [.init(name: exchange, kind: .topic)],
                queues: [.init(name: a), .init(name: b), .init(name: c)],
                bindings: [
                    .init(exchange: exchange, queue: a, routingKey: "order.*"),
                    .init(exchange: exchange, queue: b, routingKey: "#.created"),
                    .init(exchange: exchange, queue: c, routingKey: "invoice.#"),
                ]))
        try await broker.publish(message(exchange, "order.created", id: "the-order"))
        // Queues are FIFO: if c had received the order, it would come before this marker.
        try await broker.publish(message(exchange, "invoice.marker", id: "marker"))

        for queue in [a, b] {
            let consumer = try await broker.consume(queue: queue, prefetch: 10)
            let delivery = try await nextDelivery(consumer)
            #expect(delivery.properties.messageID == "the-order")
            #expect(delivery.routingKey == "order.created")
            #expect(delivery.exchange == exchange)
            #expect(delivery.properties.type == "order.created")
            #expect(delivery.properties.contentType == "application/json")
            #expect(delivery.properties.persistent)
            try await delivery.ack()
            await consumer.cancel()
        }
        let consumer = try await broker.consume(queue: c, prefetch: 10)
        let first = try await nextDelivery(consumer)
        #expect(first.properties.messageID == "marker")
        try await first.ack()
        await consumer.cancel()
    }

    /// Every delivery names its publisher's broker user as `user_id`, whatever the message
    /// asked for: the wrapper stamps its own user, and RabbitMQ would refuse any other.
    package static func senderIdentity(_ broker: any Broker, user: String) async throws {
        let queue = uniqueName("sender")
        try await broker.declare(Topology(queues: [.init(name: queue)]))
        var spoofed = message("", queue, id: "spoofed")
        spoofed.properties.userID = "someone-else"
        try await broker.publish([message("", queue, id: "plain"), spoofed])
        let consumer = try await broker.consume(queue: queue, prefetch: 10)
        for id in ["plain", "spoofed"] {
            let delivery = try await nextDelivery(consumer)
            #expect(delivery.properties.messageID == id)
            #expect(delivery.properties.userID == user)
            try await delivery.ack()
        }
        await consumer.cancel()
    }

    /// Publishing to an exchange where no binding matches fails as unroutable.
    package static func unroutable(_ broker: any Broker) async throws {
        let exchange = uniqueName("nowhere")
        try await broker.declare(Topology(exchanges: [.init(name: exchange, kind: .topic)]))
        do {
            try await broker.publish(message(exchange, "order.created", id: "lost"))
            Issue.record("an unroutable publish succeeded")
        } catch let error as BrokerError {
            #expect(error.code == .unroutable)
            #expect(error.messageID == "lost")
        }
        // In a batch, only the unroutable message fails; the others are confirmed.
        let queue = exchange + ".q"
        try await broker.declare(
            Topology(
                queues: [.init(name: queue)], bindings: [.init(exchange: exchange, queue: queue, routingKey: "ok")]))
        do {
            try await broker.publish([
                message(exchange, "ok", id: "m1"), message(exchange, "nope", id: "m2"),
                message(exchange, "ok", id: "m3"),
            ])
            Issue.record("a batch with an unroutable message succeeded")
        } catch let error as BrokerError {
            #expect(error.code == .publishFailed)
            #expect(error.failures.map(\.messageID) == ["m2"])
            #expect(error.failures.map(\.code) == [.unroutable])
        }
        let consumer = try await broker.consume(queue: queue, prefetch: 10)
        let delivered = try await nextDeliveries(consumer, count: 2)
        #expect(delivered.map(\.properties.messageID) == ["m1", "m3"])
        try await delivered[1].ack(multiple: true)
        await consumer.cancel()
    }

    /// A delivery nacked without requeue lands in the queue's dead-letter queue with `x-death`.
    package static func deadLettering(_ broker: any Broker) async throws {
        let exchange = uniqueName("dlx")
        let queue = exchange + ".work"
        try await broker.declare(
            Topology.consumerQueue(queue, exchange: exchange, routingKeys: ["work.#"], queueType: .classic))
        try await broker.publish(message(exchange, "work.item", id: "poison", body: "not json"))

        let consumer = try await broker.consume(queue: queue, prefetch: 5)
        let delivery = try await nextDelivery(consumer)
        try await delivery.nack(requeue: false)
        await consumer.cancel()

        let dead = try await broker.consume(queue: QueueName.deadLetter(of: queue), prefetch: 5)
        let deadDelivery = try await nextDelivery(dead)
        #expect(deadDelivery.properties.messageID == "poison")
        #expect(String(decoding: deadDelivery.body, as: UTF8.self) == "not json")
        guard case .array(let deaths)? = deadDelivery.properties.headers["x-death"],
            case .table(let death)? = deaths.first
        else {
            Issue.record("no x-death header: \(deadDelivery.properties.headers)")
            return
        }
        #expect(death["queue"]?.stringValue == queue)
        #expect(death["reason"]?.stringValue == "rejected")
        try await deadDelivery.ack()
        await dead.cancel()
    }

    /// A delivery left unacknowledged when its consumer goes is delivered again, flagged.
    package static func redelivery(_ broker: any Broker) async throws {
        let queue = uniqueName("redeliver")
        try await broker.declare(Topology(queues: [.init(name: queue)]))
        try await broker.publish(message("", queue, id: "again"))

        let first = try await broker.consume(queue: queue, prefetch: 1)
        let delivery = try await nextDelivery(first)
        #expect(!delivery.redelivered)
        await first.cancel()
        // Settling over a connection that is gone is refused, not misapplied.
        await #expect(throws: BrokerError.self) { try await delivery.ack() }

        let second = try await broker.consume(queue: queue, prefetch: 1)
        let again = try await nextDelivery(second)
        #expect(again.properties.messageID == "again")
        #expect(again.redelivered)
        try await again.ack()
        await second.cancel()
    }

    /// Prefetch bounds what a consumer holds unacknowledged; acking lets more in.
    package static func prefetch(_ broker: any Broker) async throws {
        let queue = uniqueName("prefetch")
        try await broker.declare(Topology(queues: [.init(name: queue)]))
        try await broker.publish((1...10).map { message("", queue, id: "p\($0)") })
        let consumer = try await broker.consume(queue: queue, prefetch: 3)
        let batch = try await nextDeliveries(consumer, count: 3)
        #expect(batch.map(\.properties.messageID) == ["p1", "p2", "p3"])
        // The broker counts what it has not delivered: had it sent a fourth before the ack,
        // fewer than seven would be waiting (it answers after its pending deliveries).
        #expect(
            try await broker.inspect(queue: queue).messageCount == 7,
            "more than the prefetch was delivered before an ack")
        try await batch[2].ack(multiple: true)
        var rest: [Delivery] = []
        while rest.count < 7 {
            let more = try await nextDeliveries(consumer, count: min(3, 7 - rest.count))
            try await more.last!.ack(multiple: true)
            rest += more
        }
        #expect(rest.map(\.properties.messageID) == (4...10).map { "p\($0)" })
        await consumer.cancel()
    }

    /// A passive look at a queue counts its waiting messages and consumers; a missing queue
    /// is a 404.
    package static func inspection(_ broker: any Broker) async throws {
        let queue = uniqueName("inspect")
        try await broker.declare(Topology(queues: [.init(name: queue)]))
        #expect(try await broker.inspect(queue: queue) == QueueStatus(messageCount: 0, consumerCount: 0))
        try await broker.publish((1...3).map { message("", queue, id: "i\($0)") })
        let consumer = try await broker.consume(queue: queue, prefetch: 1)
        _ = try await nextDelivery(consumer)
        try await waitUntil("the consumer to register") { try await broker.inspect(queue: queue).consumerCount == 1 }
        #expect(try await broker.inspect(queue: queue).messageCount == 2)
        await consumer.cancel()
        await #expect {
            try await broker.inspect(queue: uniqueName("missing"))
        } throws: { error in
            (error as? BrokerError)?.replyCode == 404
        }
        // The broker carries on after the refusal; the unacknowledged message went back.
        try await waitUntil("the cancelled consumer's delivery to return") {
            try await broker.inspect(queue: queue).messageCount == 3
        }
    }
}
