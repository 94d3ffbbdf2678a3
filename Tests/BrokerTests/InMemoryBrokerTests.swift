import BrokerTesting
import ContractTesting
import Contracts
import MercatoTesting
import Testing

@testable import Broker

/// The broker semantics against the in-memory double, plus its own details.
@Suite(.timeLimit(.minutes(1)))
struct InMemoryBrokerTests {
    @Test func routesByTopicPattern() async throws {
        try await BrokerSemantics.topicRouting(InMemoryBroker())
    }

    @Test func reportsUnroutableMessages() async throws {
        try await BrokerSemantics.unroutable(InMemoryBroker())
    }

    @Test func senderIdentity() async throws {
        try await BrokerSemantics.senderIdentity(InMemoryBroker(user: "order-service"), user: "order-service")
    }

    @Test func nackWithoutRequeueDeadLetters() async throws {
        try await BrokerSemantics.deadLettering(InMemoryBroker())
    }

    @Test func redeliversWhatAClosedConsumerLeftUnacknowledged() async throws {
        try await BrokerSemantics.redelivery(InMemoryBroker())
    }

    @Test func prefetchBoundsUnacknowledgedDeliveries() async throws {
        try await BrokerSemantics.prefetch(InMemoryBroker())
    }

    @Test func inspectsQueues() async throws {
        try await BrokerSemantics.inspection(InMemoryBroker())
    }

    @Test func runsUntilShutDown() async throws {
        let broker = InMemoryBroker()
        let running = Task { try await broker.run() }
        #expect(broker.isReady)
        await broker.shutdown()
        try await withDeadline(.seconds(10), "run() to return after shutdown()") { try await running.value }
        #expect(!broker.isReady)
    }

    /// A message outliving its queue's `x-message-ttl` is dead-lettered as expired, and not
    /// before: the TTL runs on the broker's clock, here a manual one.
    @Test func expiresMessagesAtTheirTTLOnItsClock() async throws {
        let clock = ManualClock()
        let broker = InMemoryBroker(clock: clock)
        let (queue, expired) = (uniqueName("ttl"), uniqueName("expired"))
        try await broker.declare(
            Topology(queues: [
                .init(
                    name: queue,
                    arguments: .init(deadLetterExchange: "", deadLetterRoutingKey: expired, messageTTL: 1_000)),
                .init(name: expired),
            ]))
        try await broker.publish(message("", queue, id: "late"))
        try await clock.waitForSleepers(1, timeout: .seconds(60))
        clock.advance(by: .milliseconds(999))
        // Still asleep, so not expired: the advance wakes every sleep that is due, at once.
        #expect(clock.pendingSleeps == 1)
        #expect(await broker.messageCount(queue: queue) == 1)
        clock.advance(by: .milliseconds(1))
        try await waitUntil("the message to expire", timeout: .seconds(60)) {
            await broker.messageCount(queue: expired) == 1
        }
        #expect(await broker.messageCount(queue: queue) == 0)
        let dead = await broker.messages(in: expired)
        guard case .array(let deaths)? = dead.first?.properties.headers["x-death"],
            case .table(let death)? = deaths.first
        else {
            Issue.record("no x-death header: \(String(describing: dead.first?.properties.headers))")
            return
        }
        #expect(death["reason"]?.stringValue == "expired" && death["queue"]?.stringValue == queue)
    }

    @Test func declaresMercatosTopology() async throws {
        let broker = InMemoryBroker()
        try await broker.declare(.mercato())
        try await broker.publish(message(ExchangeName.orders, EventType.orderCreated.name))
        #expect(await broker.messageCount(queue: QueueName.customerOrderCreated) == 1)
        #expect(await broker.messageCount(queue: QueueName.catalogOrderEvents) == 1)
        try await broker.publish(message(ExchangeName.customers, EventType.customerUpdated.name))
        #expect(await broker.messageCount(queue: QueueName.orderCustomerEvents) == 1)
    }

    @Test(arguments: [
        ("order.*", "order.created", true),
        ("order.*", "order.created.v2", false),
        ("order.#", "order", true),
        ("#.created", "order.created", true),
        ("#", "anything.at.all", true),
        ("*.created", "created", false),
        ("a.#.z", "a.b.c.z", true),
        ("a.#.z", "a.z", true),
        ("customer.*", "customer.updated", true),
        ("order.created", "order.created", true),
    ])
    func topicPatterns(pattern: String, key: String, matches: Bool) {
        #expect(TopicPattern(pattern).matches(key) == matches)
    }
}

/// A consumer's deliveries with several readers at once.
@Suite(.timeLimit(.minutes(1)))
struct DeliveryBufferTests {
    /// `BrokerConsumer` is a public `Sendable` sequence: reading it from two tasks must work
    /// (it trapped), each delivery reaching one of them.
    @Test func twoReadersShareTheDeliveries() async throws {
        let broker = InMemoryBroker()
        let queue = uniqueName("readers")
        try await broker.declare(Topology(queues: [.init(name: queue)]))
        let consumer = try await broker.consume(queue: queue, prefetch: 100)
        let readers = (0..<2).map { _ in
            Task { () -> [String] in
                var seen: [String] = []
                for await delivery in consumer {
                    seen.append(delivery.properties.messageID ?? "")
                    try? await delivery.ack()
                }
                return seen
            }
        }
        try await waitUntil("both readers to wait") { consumer.buffer.waiting == 2 }
        try await broker.publish((0..<50).map { message("", queue, id: "m\($0)") })
        try await waitUntil("every delivery to be read") {
            try await broker.inspect(queue: queue).messageCount == 0 && consumer.buffer.count == 0
        }
        await consumer.cancel()
        var all: [String] = []
        for reader in readers { all += try await withDeadline(.seconds(10), "a reader to end") { await reader.value } }
        #expect(all.sorted() == (0..<50).map { "m\($0)" }.sorted())
    }
}
