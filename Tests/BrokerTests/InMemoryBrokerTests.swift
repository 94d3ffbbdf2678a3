@testable import Broker
import Contracts
import Testing

/// The same semantics against the in-memory double, plus its own details.
struct InMemoryBrokerTests {
    @Test func routesByTopicPattern() async throws {
        try await BrokerSemantics.topicRouting(InMemoryBroker())
    }

    @Test func reportsUnroutableMessages() async throws {
        try await BrokerSemantics.unroutable(InMemoryBroker())
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

    @Test func declaresMercatosTopology() async throws {
        let broker = InMemoryBroker()
        try await broker.declare(.mercato())
        try await broker.publish(message(ExchangeName.orders, EventType.orderCreated.name))
        #expect(await broker.messageCount(queue: QueueName.customerOrderCreated) == 1)
        #expect(await broker.messageCount(queue: QueueName.invoiceOrderCreated) == 1)
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
