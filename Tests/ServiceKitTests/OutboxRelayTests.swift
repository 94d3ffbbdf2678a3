import Broker
import Contracts
import Foundation
import Logging
import ServiceKit
import Testing

struct OutboxRelayTests {
    func event(_ orderID: UUID = UUID()) throws -> OutboxMessage {
        try OutboxMessage(
            CloudEvent(
                source: "/tests", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                data: OrderCreated(orderID: orderID, customerID: UUID(), items: [], total: .zero, createdAt: Date())),
            appID: "tests")
    }

    @Test func publishesWhatIsAppendedAndMarksItSent() async throws {
        let broker = InMemoryBroker()
        try await broker.declare(.mercato())
        let store = MemoryOutboxStore()
        let readiness = Readiness()
        readiness.markUp(Readiness.database)
        let relay = OutboxRelay(store: store, broker: broker, readiness: readiness, logger: Logger(label: "test"))
        let running = Task { try await relay.run() }
        let messages = try (0..<3).map { _ in try event() }
        store.append(messages)
        for _ in 0..<100 where await broker.messageCount(queue: QueueName.invoiceOrderCreated) < 3 {
            try await Task.sleep(for: .milliseconds(20))
        }
        running.cancel()
        #expect(await broker.messageCount(queue: QueueName.invoiceOrderCreated) == 3)
        #expect(await broker.messageCount(queue: QueueName.customerOrderCreated) == 3)
        #expect(store.pending.isEmpty)
        #expect(store.published.map(\.id) == messages.map(\.id))
        let published = await broker.messages(in: QueueName.invoiceOrderCreated)
        #expect(published.first?.properties.messageID == messages[0].id)
        #expect(published.first?.properties.type == "order.created")
        #expect(published.first?.properties.contentType == "application/cloudevents+json")
        #expect(published.first?.properties.appID == "tests")
        #expect(published.first?.properties.persistent == true)
        #expect(published.first?.properties.headers["traceparent"]?.stringValue == messages[0].traceparent)
    }

    @Test func anUnroutableMessageStaysInTheOutbox() async throws {
        let broker = InMemoryBroker()
        // Only the exchange: no queue is bound, so every publish is unroutable.
        try await broker.declare(Topology(exchanges: [.init(name: ExchangeName.orders, kind: .topic)]))
        let store = MemoryOutboxStore()
        store.append([try event()])
        _ = try await store.relay(limit: 10) { messages in
            do {
                try await broker.publish(messages.map(\.amqpMessage))
                return PublishOutcome(confirmed: messages.map(\.id))
            } catch let error as BrokerError {
                return PublishOutcome(confirmed: [], refused: Dictionary(uniqueKeysWithValues: error.failures.map { ($0.messageID, $0.reason) }))
            } catch {
                return PublishOutcome(confirmed: [], transientFailure: "\(error)")
            }
        }
        #expect(store.pending.count == 1)
        #expect(store.published.isEmpty)
    }
}
