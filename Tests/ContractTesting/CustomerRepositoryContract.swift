import Contracts
package import CustomerService
import Foundation
import MercatoTesting
package import ServiceKit
import Testing

/// A customer repository under test, with a view of the events it queued.
package struct CustomerStore: Sendable {
    /// The repository.
    package var repository: any CustomerRepository
    /// The events it queued and nobody published yet, oldest first.
    package var pendingEvents: @Sendable () async throws -> [OutboxMessage]

    /// Creates the subject.
    package init(
        repository: any CustomerRepository, pendingEvents: @escaping @Sendable () async throws -> [OutboxMessage]
    ) {
        self.repository = repository
        self.pendingEvents = pendingEvents
    }
}

/// What every ``CustomerRepository`` does — PostgreSQL's and the in-memory one alike.
package enum CustomerRepositoryContract {
    /// The stamp the contract's repositories are created with.
    package static let stamp = EventStamp(serviceName: "customer-service")

    static func newCustomer(_ name: String = "Ada", email: String? = nil) -> NewCustomer {
        NewCustomer(
            name: name, email: email ?? "\(name.lowercased())-\(UUID().uuidString.prefix(8))@example.com",
            address: "London")
    }

    static func orderCreated(for customer: UUID, order: UUID = UUID(), id: String = UUID().uuidString) throws
        -> CountedOrder
    {
        let event = try IncomingEvent(
            CloudEvent(
                id: id, source: "/tests", traceparent: testTraceparent,
                data: OrderCreated(orderID: order, customerID: customer, items: [], total: .zero, createdAt: Date())))
        return CountedOrder(event: event, orderID: order, customerID: customer, change: .placed)
    }

    static func orderCancelled(for customer: UUID, order: UUID, id: String = UUID().uuidString) throws -> CountedOrder {
        let event = try IncomingEvent(
            CloudEvent(
                id: id, source: "/tests", traceparent: testTraceparent,
                data: OrderCancelled(orderID: order, customerID: customer, reason: .requested, cancelledAt: Date())))
        return CountedOrder(event: event, orderID: order, customerID: customer, change: .cancelled)
    }

    static func decode<Payload: EventPayload>(_ type: Payload.Type, _ message: OutboxMessage) throws -> CloudEvent<
        Payload
    > {
        try EventCoding.makeDecoder().decode(CloudEvent<Payload>.self, from: message.body)
    }

    /// Every check.
    package static let checks: [ContractCheck<CustomerStore>] = [
        ContractCheck("registering stores the customer and queues customer.created") { store in
            let id = UUID()
            let time = millisecondNow()
            let created = try await store.repository.create(
                newCustomer(), id: id, at: time, traceparent: testTraceparent)
            let stored = try #require(try await store.repository.customer(id: id))
            #expect(
                stored.name == created.name && stored.email == created.email && stored.ordersCount == 0
                    && stored.version == 1)
            #expect(sameInstant(stored.createdAt, time))
            #expect(try await store.repository.customer(id: UUID()) == nil)
            let events = try await store.pendingEvents()
            #expect(events.map(\.eventType) == ["customer.created"])
            let event = try decode(CustomerCreated.self, try #require(events.first))
            #expect(
                event.data.customer.customerID == id && event.traceparent == testTraceparent
                    && event.source == stamp.source)
        },
        ContractCheck("an e-mail address is taken whatever its case, and the refusal writes nothing") { store in
            _ = try await store.repository.create(
                newCustomer("Ada", email: "ada@example.com"), id: UUID(), at: millisecondNow(), traceparent: nil)
            let second = UUID()
            await #expect {
                try await store.repository.create(
                    newCustomer("Ada", email: "ADA@example.com"), id: second, at: millisecondNow(), traceparent: nil)
            } throws: { ($0 as? CustomerStoreError)?.code == .emailTaken }
            #expect(try await store.repository.customer(id: second) == nil)
            #expect(try await store.pendingEvents().count == 1)
        },
        ContractCheck("a second customer with the same id is refused as idTaken, and nothing is queued for it") {
            store in
            let id = UUID()
            _ = try await store.repository.create(
                newCustomer("Ada", email: "ada@example.com"), id: id, at: millisecondNow(), traceparent: nil)
            await #expect {
                try await store.repository.create(
                    newCustomer("Bob", email: "bob@example.com"), id: id, at: millisecondNow(), traceparent: nil)
            } throws: { ($0 as? CustomerStoreError)?.code == .idTaken }
            #expect(try await store.repository.customer(id: id)?.name == "Ada")
            #expect(try await store.pendingEvents().count == 1)
        },
        ContractCheck("pages run oldest first and follow each other without repeats") { store in
            let start = millisecondNow(plus: -100)
            var ids: [(PageCursor, UUID)] = []
            for index in 0..<7 {
                let id = UUID()
                let time = start + Double(index / 2)
                _ = try await store.repository.create(newCustomer("C\(index)"), id: id, at: time, traceparent: nil)
                ids.append((PageCursor(time: time, id: id), id))
            }
            var request = PageRequest(limit: 3)
            var seen: [UUID] = []
            while true {
                let page = try await store.repository.customers(page: request)
                seen += page.map(\.id)
                guard page.count == request.limit, let last = page.last else { break }
                request.after = PageCursor(time: last.createdAt, id: last.id)
            }
            #expect(seen == ids.sorted { $0.0 < $1.0 }.map(\.1))
        },
        ContractCheck(
            "each order.created counts once, however often it arrives; the change is announced once, when published"
        ) { store in
            let id = UUID()
            _ = try await store.repository.create(newCustomer(), id: id, at: millisecondNow(), traceparent: nil)
            let first = try orderCreated(for: id)
            try await store.repository.countOrders([first, try orderCreated(for: id)])
            try await store.repository.countOrders([first])  // redelivered
            try await store.repository.countOrders([first, first])  // duplicated within a batch
            let customer = try #require(try await store.repository.customer(id: id))
            #expect(customer.ordersCount == 2 && customer.version == 2)
            // Another event id for an order already counted: still one order.
            try await store.repository.countOrders([try orderCreated(for: id, order: first.orderID)])
            #expect(try await store.repository.customer(id: id)?.ordersCount == 2)
            #expect(
                try await store.pendingEvents().map(\.eventType) == ["customer.created"],
                "announced per batch, not coalesced")
            #expect(try await store.repository.publishCountChanges(limit: 10) == 1)
            #expect(try await store.repository.publishCountChanges(limit: 10) == 0, "announced twice")
            let events = try await store.pendingEvents()
            #expect(events.map(\.eventType) == ["customer.created", "customer.updated"])
            let updated = try decode(CustomerUpdated.self, events[1])
            #expect(updated.data.customer.ordersCount == 2 && updated.data.customer.version == 2)
            #expect(updated.subject == id.uuidString.lowercased())
        },
        ContractCheck("count changes are announced in batches of the limit, each customer once with its latest count") {
            store in
            var ids: [UUID] = []
            for index in 0..<3 {
                let id = UUID()
                _ = try await store.repository.create(
                    newCustomer("C\(index)"), id: id, at: millisecondNow(), traceparent: nil)
                ids.append(id)
            }
            for id in ids { try await store.repository.countOrders([try orderCreated(for: id)]) }
            try await store.repository.countOrders([try orderCreated(for: ids[0]), try orderCreated(for: ids[0])])
            #expect(try await store.repository.publishCountChanges(limit: 2) == 2)
            #expect(try await store.repository.publishCountChanges(limit: 2) == 1)
            #expect(try await store.repository.publishCountChanges(limit: 2) == 0)
            let updates = try await store.pendingEvents().filter { $0.eventType == "customer.updated" }.map {
                try decode(CustomerUpdated.self, $0).data.customer
            }
            #expect(Set(updates.map(\.customerID)) == Set(ids) && updates.count == 3)
            #expect(updates.first { $0.customerID == ids[0] }?.ordersCount == 3)
            // A count that moves again after its announcement is announced again.
            try await store.repository.countOrders([try orderCreated(for: ids[1])])
            #expect(try await store.repository.publishCountChanges(limit: 2) == 1)
        },
        ContractCheck("an order for an unknown customer is poison and changes nothing, not even the inbox") { store in
            let known = UUID()
            _ = try await store.repository.create(newCustomer(), id: known, at: millisecondNow(), traceparent: nil)
            let good = try orderCreated(for: known)
            await #expect(throws: PoisonMessage.self) {
                try await store.repository.countOrders([good, try orderCreated(for: UUID())])
            }
            #expect(try await store.repository.customer(id: known)?.ordersCount == 0)
            // Retried alone, the good event still counts: the failed batch recorded nothing.
            try await store.repository.countOrders([good])
            #expect(try await store.repository.customer(id: known)?.ordersCount == 1)
        },
        ContractCheck("a cancelled order is taken out once, whichever of its events arrives first") { store in
            let id = UUID()
            _ = try await store.repository.create(newCustomer(), id: id, at: millisecondNow(), traceparent: nil)
            let (inOrder, reversed, kept) = (UUID(), UUID(), UUID())
            try await store.repository.countOrders([
                try orderCreated(for: id, order: inOrder), try orderCreated(for: id, order: kept),
            ])
            #expect(try await store.repository.customer(id: id)?.ordersCount == 2)
            let cancel = try orderCancelled(for: id, order: inOrder)
            try await store.repository.countOrders([cancel])
            // Again, and under another id.
            try await store.repository.countOrders([cancel, try orderCancelled(for: id, order: inOrder)])
            #expect(try await store.repository.customer(id: id)?.ordersCount == 1)
            // The cancellation overtakes the creation: nothing to take back, and the late
            // creation does not count.
            try await store.repository.countOrders([try orderCancelled(for: id, order: reversed)])
            #expect(try await store.repository.customer(id: id)?.ordersCount == 1)
            try await store.repository.countOrders([try orderCreated(for: id, order: reversed)])
            try await store.repository.countOrders([try orderCancelled(for: id, order: reversed)])
            let customer = try #require(try await store.repository.customer(id: id))
            #expect(customer.ordersCount == 1)
            // A change only when the count moved: created (+2), one cancel (−1).
            #expect(customer.version == 3)
            #expect(try await store.repository.publishCountChanges(limit: 10) == 1)
            let updated = try await store.pendingEvents().filter { $0.eventType == "customer.updated" }
            #expect(updated.count == 1)
            #expect(try decode(CustomerUpdated.self, try #require(updated.first)).data.customer.version == 3)
        },
        ContractCheck("seeding fills an empty store once") { store in
            let time = millisecondNow()
            let seeded = try await store.repository.seedIfEmpty(
                CustomerSeeds.customers, ids: CustomerSeeds.ids, at: time)
            let seededAgain = try await store.repository.seedIfEmpty(
                CustomerSeeds.customers, ids: CustomerSeeds.ids, at: time)
            #expect(seeded && !seededAgain)
            let ids = try await store.repository.customers(page: .init(limit: 10)).map(\.id)
            #expect(ids.sorted { $0.uuidString < $1.uuidString } == CustomerSeeds.ids)
            let events = try await store.pendingEvents().map(\.eventType)
            #expect(events == Array(repeating: "customer.created", count: 3))
        },
    ]
}
