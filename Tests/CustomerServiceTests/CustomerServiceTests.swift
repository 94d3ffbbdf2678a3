import Broker
import Contracts
@testable import CustomerService
import Foundation
import Logging
import ServiceKit
import Testing

struct CustomerServiceTests {
    let repository = MemoryCustomerRepository()

    func orderCreated(for customer: UUID, id: String = UUID().uuidString) throws -> IncomingEvent {
        try IncomingEvent(
            CloudEvent(
                id: id, source: "/tests", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                data: OrderCreated(orderID: UUID(), customerID: customer, items: [], total: .zero, createdAt: Date())))
    }

    @Test func validatesNewCustomers() throws {
        #expect(try NewCustomer(name: "  Ada ", email: "ada@example.com", address: "London").validated().name == "Ada")
        let cases: [(NewCustomer, String)] = [
            (NewCustomer(name: "", email: "ada@example.com", address: "London"), "name"),
            (NewCustomer(name: "Ada", email: "not-an-email", address: "London"), "email"),
            (NewCustomer(name: "Ada", email: "ada@example.com", address: String(repeating: "x", count: 501)), "address"),
            (NewCustomer(name: "A\u{7}da", email: "ada@example.com", address: "London"), "name"),
        ]
        for (input, field) in cases {
            #expect { try input.validated() } throws: { ($0 as? APIError)?.field == field }
        }
    }

    @Test func duplicateEmailsConflict() async throws {
        _ = try await repository.create(NewCustomer(name: "A", email: "a@example.com", address: "x"), id: UUID(), at: Date(), traceparent: nil)
        await #expect {
            try await repository.create(NewCustomer(name: "B", email: "A@example.com", address: "y"), id: UUID(), at: Date(), traceparent: nil)
        } throws: { ($0 as? APIError)?.code == "email_taken" }
    }

    @Test func countsEachOrderOnce() async throws {
        let id = UUID()
        _ = try await repository.create(NewCustomer(name: "A", email: "a@example.com", address: "x"), id: id, at: Date(), traceparent: nil)
        let handler = OrderCountingHandler(repository: repository)
        let first = try orderCreated(for: id)
        try await handler.apply([first, try orderCreated(for: id)])
        try await handler.apply([first])  // redelivered
        try await handler.apply([first, first])  // duplicated within a batch
        let customer = try #require(try await repository.customer(id: id))
        #expect(customer.ordersCount == 2)
        #expect(customer.version == 2)
        // One customer.created, then one customer.updated for the batch that changed it.
        let events = repository.outbox.pending
        #expect(events.map(\.eventType) == ["customer.created", "customer.updated"])
        let updated = try EventCoding.makeDecoder().decode(CloudEvent<CustomerUpdated>.self, from: events[1].body)
        #expect(updated.data.customer.ordersCount == 2)
        #expect(updated.traceparent == first.traceparent)
    }

    @Test func anUnknownCustomerIsPoisonAndChangesNothing() async throws {
        let known = UUID()
        _ = try await repository.create(NewCustomer(name: "A", email: "a@example.com", address: "x"), id: known, at: Date(), traceparent: nil)
        let handler = OrderCountingHandler(repository: repository)
        await #expect(throws: PoisonMessage.self) {
            try await handler.apply([try orderCreated(for: known), try orderCreated(for: UUID())])
        }
        #expect(try await repository.customer(id: known)?.ordersCount == 0)
    }

    @Test func seedsOnlyAnEmptyDatabase() async throws {
        #expect(try await repository.seedIfEmpty(CustomerSeeds.customers, ids: CustomerSeeds.ids, at: Date()))
        #expect(try await !repository.seedIfEmpty(CustomerSeeds.customers, ids: CustomerSeeds.ids, at: Date()))
        #expect(try await repository.customers(page: .init(limit: 10)).count == 3)
        #expect(CustomerSeeds.customers.allSatisfy { (try? $0.validated()) == $0 })
    }

    @Test func consumesOrderCreatedFromTheBroker() async throws {
        let broker = InMemoryBroker()
        try await broker.declare(.mercato())
        let id = CustomerSeeds.ids[0]
        _ = try await repository.seedIfEmpty(CustomerSeeds.customers, ids: CustomerSeeds.ids, at: Date())
        let event = CloudEvent(
            source: "/tests", data: OrderCreated(orderID: UUID(), customerID: id, items: [], total: .zero, createdAt: Date()))
        let message = OutboundMessage(
            exchange: ExchangeName.orders, routingKey: "order.created",
            properties: MessageProperties(contentType: CloudEvent<OrderCreated>.contentType, messageID: event.id, type: event.type),
            body: try EventCoding.makeEncoder().encode(event))
        try await broker.publish([message, message])  // the same event twice
        let readiness = Readiness()
        let consumer = EventConsumer(
            queue: QueueName.customerOrderCreated, handler: OrderCountingHandler(repository: repository), broker: broker,
            readiness: readiness, serviceName: "customer-service", logger: Logger(label: "tests"))
        readiness.markUp(Readiness.database)
        readiness.markUp(Readiness.broker)
        let running = Task { try await consumer.run() }
        for _ in 0..<200 where try await repository.customer(id: id)?.ordersCount != 1 {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))
        running.cancel()
        #expect(try await repository.customer(id: id)?.ordersCount == 1)
        #expect(await broker.messageCount(queue: QueueName.customerOrderCreated) == 0)
    }
}

