import Broker
import ContractTesting
import Contracts
import Foundation
import Logging
import MercatoTesting
import Testing

/// The Broker over a real RabbitMQ (started by scripts/test).
@Suite(.needsRabbitMQ, .timeLimit(.minutes(2)))
struct RabbitMQBrokerTests {
    @Test func routesByTopicPattern() async throws {
        try await Integration.withBroker { try await BrokerSemantics.topicRouting($0) }
    }

    @Test func reportsUnroutableMessages() async throws {
        try await Integration.withBroker { try await BrokerSemantics.unroutable($0) }
    }

    @Test func senderIdentity() async throws {
        let user = try #require(URLComponents(string: try Integration.amqpURL())?.user)
        try await Integration.withBroker { try await BrokerSemantics.senderIdentity($0, user: user) }
    }

    @Test func nackWithoutRequeueDeadLetters() async throws {
        try await Integration.withBroker { try await BrokerSemantics.deadLettering($0) }
    }

    @Test func redeliversWhatAClosedConsumerLeftUnacknowledged() async throws {
        try await Integration.withBroker { try await BrokerSemantics.redelivery($0) }
    }

    @Test func prefetchBoundsUnacknowledgedDeliveries() async throws {
        try await Integration.withBroker { try await BrokerSemantics.prefetch($0) }
    }

    @Test func inspectsQueues() async throws {
        try await Integration.withBroker { try await BrokerSemantics.inspection($0) }
    }

    @Test func publishReturnsOnlyAfterTheConfirm() async throws {
        try await Integration.withBroker { broker in
            let queue = uniqueName("confirm")
            try await broker.declare(Topology(queues: [.init(name: queue)]))
            try await broker.publish(message("", queue, id: "confirmed"))
            // The confirm means the broker has it: a consumer on a *different* connection sees it.
            try await Integration.withBroker("confirm-reader") { other in
                let consumer = try await other.consume(queue: queue, prefetch: 1)
                let delivery = try await nextDelivery(consumer)
                #expect(delivery.properties.messageID == "confirmed")
                try await delivery.ack()
            }
        }
    }

    @Test func confirmsABatchOfTenThousand() async throws {
        try await Integration.withBroker { broker in
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
            #expect(seen == Set((0..<count).map { "b\($0)" }))
            await consumer.cancel()
        }
    }

    @Test func nackedMessagesAreNamed() async throws {
        try await Integration.withBroker { broker in
            // A full queue that rejects publishes makes the broker nack instead of ack.
            let queue = uniqueName("full")
            try await broker.declare(
                Topology(queues: [.init(name: queue, arguments: .init(maxLength: 1, overflow: "reject-publish"))]))
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
        }
    }

    @Test func aNodeListWithADeadNodeConnectsThroughTheLiveOne() async throws {
        let live = try RabbitMQBroker.Configuration(url: Integration.amqpURL())
        // Nothing listens on port 1: whichever node each connection starts at, it ends up
        // on the live one.
        let broker = try Integration.makeBroker("node-list") { configuration in
            configuration.nodes = [.init(host: "127.0.0.1", port: 1), live.nodes[0], .init(host: "127.0.0.1", port: 1)]
            configuration.connectTimeout = .seconds(1)
            configuration.reconnectMaximumDelay = .milliseconds(200)
        }
        try await broker.withRunning {
            let queue = uniqueName("nodes")
            try await broker.declare(Topology(queues: [.init(name: queue)]))
            var consumers: [BrokerConsumer] = []
            for _ in 0..<4 { consumers.append(try await broker.consume(queue: queue, prefetch: 1)) }
            let count = consumers.count
            try await broker.publish(message("", queue, id: "through-the-live-node"))
            try await waitUntil(
                "every consumer to subscribe through the live node", timeout: .seconds(30), interval: .milliseconds(100)
            ) {
                (try? await broker.inspect(queue: queue).consumerCount) == count
            }
            for consumer in consumers { await consumer.cancel() }
        }
    }

    @Test func aConsumerTheBrokerCancelsSubscribesAgain() async throws {
        try await Integration.withBroker { broker in
            let queue = uniqueName("cancelled")
            try await broker.declare(Topology(queues: [.init(name: queue)]))
            let consumer = try await broker.consume(queue: queue, prefetch: 10)
            try await broker.publish(message("", queue, id: "before"))
            try await #expect(nextDelivery(consumer).properties.messageID == "before")
            // Deleting the queue makes RabbitMQ send the consumer a basic.cancel (as it does
            // when a quorum queue's leader goes away with its consumers). The consumer's
            // connection starts over: it declares the topology again, which brings the queue
            // back, and subscribes again.
            try await Integration.deleteQueue(queue)
            try await waitUntil("the consumer to subscribe again", timeout: .seconds(30), interval: .milliseconds(100))
            {
                (try? await broker.inspect(queue: queue).consumerCount) == 1
            }
            try await broker.publish(message("", queue, id: "after"))
            try await #expect(nextDelivery(consumer).properties.messageID == "after")
            await consumer.cancel()
        }
    }

    @Test func refusesAConflictingDeclarationAndCarriesOn() async throws {
        try await Integration.withBroker { broker in
            let queue = uniqueName("conflict")
            try await broker.declare(Topology(queues: [.init(name: queue, arguments: .init(messageTTL: 60_000))]))
            await #expect {
                try await broker.declare(Topology(queues: [.init(name: queue, arguments: .init(messageTTL: 1_000))]))
            } throws: { error in
                (error as? BrokerError)?.replyCode == 406
            }
            // The connection is still usable afterwards.
            try await broker.publish(message("", queue, id: "after"))
        }
    }

    @Test func headersRoundTrip() async throws {
        try await Integration.withBroker { broker in
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
        }
    }

    @Test func rejectsAWrongPassword() async throws {
        let broker = try Integration.makeBroker("wrong-password") { configuration in
            configuration.password = "wrong"
            configuration.publishTimeout = .seconds(2)
        }
        try await broker.withRunning {
            await #expect(throws: BrokerError.self) {
                try await broker.declare(Topology(exchanges: [.init(name: uniqueName("x"), kind: .topic)]))
            }
            #expect(broker.isReady == false)
        }
    }

    /// run() ends on shutdown(), and what was waiting for a connection fails instead of
    /// waiting for one that will never come.
    @Test func shutdownEndsRunAndFailsWhatWaits() async throws {
        let broker = try Integration.makeBroker("shutdown")
        let running = Task { try await broker.run() }
        let queue = uniqueName("shutdown")
        try await broker.declare(Topology(queues: [.init(name: queue)]))
        let consumer = try await broker.consume(queue: queue, prefetch: 1)
        try await waitUntil("the consumer to connect") { broker.isReady }
        await broker.shutdown()
        try await withDeadline(.seconds(30), "run() to return") { try await running.value }
        #expect(!broker.isReady)
        #expect(await consumer.next(max: 1).isEmpty, "the consumer's sequence did not end")
        await #expect(throws: BrokerError.self) { try await broker.publish(message("", queue)) }
        await #expect(throws: BrokerError.self) { try await broker.consume(queue: queue, prefetch: 1) }
    }
}
