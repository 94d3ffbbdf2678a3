import Broker
import Contracts
import Foundation
import Logging
import Testing

/// The Broker over a real RabbitMQ (started by scripts/test).
@Suite(.needsRabbitMQ)
struct RabbitMQBrokerTests {
    let broker: RabbitMQBroker

    init() throws {
        broker = try Integration.makeBroker()
    }

    @Test func routesByTopicPattern() async throws {
        try await BrokerSemantics.topicRouting(broker)
        await broker.shutdown()
    }

    @Test func reportsUnroutableMessages() async throws {
        try await BrokerSemantics.unroutable(broker)
        await broker.shutdown()
    }

    @Test func nackWithoutRequeueDeadLetters() async throws {
        try await BrokerSemantics.deadLettering(broker)
        await broker.shutdown()
    }

    @Test func redeliversWhatAClosedConsumerLeftUnacknowledged() async throws {
        try await BrokerSemantics.redelivery(broker)
        await broker.shutdown()
    }

    @Test func prefetchBoundsUnacknowledgedDeliveries() async throws {
        try await BrokerSemantics.prefetch(broker)
        await broker.shutdown()
    }

    @Test func publishReturnsOnlyAfterTheConfirm() async throws {
        let queue = uniqueName("confirm")
        try await broker.declare(Topology(queues: [.init(name: queue)]))
        try await broker.publish(message("", queue, id: "confirmed"))
        // The confirm means the broker has it: a consumer on a *different* connection sees it.
        let other = try Integration.makeBroker("confirm-reader")
        let consumer = try await other.consume(queue: queue, prefetch: 1)
        let delivery = try await nextDelivery(consumer)
        #expect(delivery.properties.messageID == "confirmed")
        try await delivery.ack()
        await other.shutdown()
        await broker.shutdown()
    }

    @Test func confirmsABatchOfTenThousand() async throws {
        let queue = uniqueName("batch")
        try await broker.declare(Topology(queues: [.init(name: queue)]))
        let count = 10_000
        let messages = (0..<count).map { message("", queue, id: "b\($0)", body: #"{"n":\#($0)}"#) }
        try await broker.publish(messages)

        let consumer = try await broker.consume(queue: queue, prefetch: 1000)
        var seen = Set<String>()
        while seen.count < count {
            let batch = try await nextDeliveries(consumer, count: min(500, count - seen.count))
            for delivery in batch { seen.insert(delivery.properties.messageID ?? "") }
            try await batch.last!.ack(multiple: true)
        }
        #expect(seen.count == count)
        #expect(seen == Set((0..<count).map { "b\($0)" }))
        await consumer.cancel()
        await broker.shutdown()
    }

    @Test func nackedMessagesAreNamed() async throws {
        // A full queue that rejects publishes makes the broker nack instead of ack.
        let queue = uniqueName("full")
        try await broker.declare(Topology(queues: [.init(name: queue, arguments: .init(maxLength: 1, overflow: "reject-publish"))]))
        try await broker.publish(message("", queue, id: "fits"))
        do {
            try await broker.publish([message("", queue, id: "overflows")])
            Issue.record("a publish to a full reject-publish queue was confirmed")
        } catch let error as BrokerError {
            #expect(error.code == .publishFailed)
            #expect(error.failures.map(\.messageID) == ["overflows"])
            #expect(error.failures.map(\.code) == [.nacked])
        }
        await #expect {
            try await broker.publish(message("", queue, id: "single"))
        } throws: { error in
            (error as? BrokerError)?.code == .nacked && (error as? BrokerError)?.messageID == "single"
        }
        await broker.shutdown()
    }

    @Test func refusesAConflictingDeclarationAndCarriesOn() async throws {
        let queue = uniqueName("conflict")
        try await broker.declare(Topology(queues: [.init(name: queue, arguments: .init(messageTTL: 60_000))]))
        await #expect {
            try await broker.declare(Topology(queues: [.init(name: queue, arguments: .init(messageTTL: 1_000))]))
        } throws: { error in
            (error as? BrokerError)?.replyCode == 406
        }
        // The connection is still usable afterwards.
        try await broker.publish(message("", queue, id: "after"))
        await broker.shutdown()
    }

    @Test func headersRoundTrip() async throws {
        let queue = uniqueName("headers")
        try await broker.declare(Topology(queues: [.init(name: queue)]))
        var outbound = message("", queue, id: "h")
        outbound.properties.headers = [
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "x-attempt": 3, "flag": true, "nested": .table(["list": .array(["a", 1])]),
        ]
        outbound.properties.correlationID = "corr"
        outbound.properties.timestamp = Date(timeIntervalSince1970: 1_700_000_000)
        try await broker.publish(outbound)
        let consumer = try await broker.consume(queue: queue, prefetch: 1)
        let delivery = try await nextDelivery(consumer)
        #expect(delivery.properties.headers == outbound.properties.headers)
        #expect(delivery.properties.correlationID == "corr")
        #expect(delivery.properties.timestamp == outbound.properties.timestamp)
        #expect(delivery.properties.appID == "tests")
        try await delivery.ack()
        await broker.shutdown()
    }

    @Test func rejectsAWrongPassword() async throws {
        var configuration = try RabbitMQBroker.Configuration(url: Integration.amqpURL!)
        configuration.password = "wrong"
        configuration.publishTimeout = .seconds(2)
        let broker = RabbitMQBroker(configuration: configuration, logger: .init(label: "wrong-password"))
        await #expect(throws: BrokerError.self) {
            try await broker.declare(Topology(exchanges: [.init(name: uniqueName("x"), kind: .topic)]))
        }
        #expect(await broker.isReady() == false)
        await broker.shutdown()
    }
}
