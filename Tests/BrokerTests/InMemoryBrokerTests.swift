@testable import Broker
import Contracts
import ContractTesting
import MercatoTesting
import Testing

/// The broker semantics against the in-memory double, plus its own details.
@Suite(.timeLimit(.minutes(1)))
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
