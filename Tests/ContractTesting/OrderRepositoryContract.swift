import Contracts
import Foundation
import MercatoTesting
public import OrderService
public import ServiceKit
import Testing

/// An order repository under test, with a view of the events it queued.
public struct OrderStore: Sendable {
    /// The repository.
    public var repository: any OrderRepository
    /// The events it queued and nobody published yet, oldest first.
    public var pendingEvents: @Sendable () async throws -> [OutboxMessage]

    /// Creates the subject.
    public init(repository: any OrderRepository, pendingEvents: @escaping @Sendable () async throws -> [OutboxMessage]) {
        self.repository = repository
        self.pendingEvents = pendingEvents
    }
}

/// What every ``OrderRepository`` does — PostgreSQL's and the in-memory one alike.
public enum OrderRepositoryContract {
    /// The stamp the contract's repositories are created with.
    public static let stamp = EventStamp(serviceName: "order-service")

    static func order(customer: UUID = UUID(), at time: Date = millisecondNow(plus: -1), lines: [(String, Int, String)] = [("Tea", 2, "3.50")]) -> Order {
        let items = lines.map { OrderLine(productName: $0.0, quantity: $0.1, unitPrice: Money($0.2)!) }
        return Order(
            id: UUID(), customerID: customer, status: .created, items: items, total: items.map(\.lineTotal).reduce(.zero, +), createdAt: time,
            updatedAt: time)
    }

    static func invoiceCreated(order: UUID, number: String, id: String = UUID().uuidString) throws -> InvoicedOrder {
        let payload = InvoiceCreated(
            invoiceID: UUID(), invoiceNumber: number, orderID: order, customerID: UUID(), lines: [], subtotal: .zero, taxRate: 0, tax: .zero,
            total: .zero, issuedAt: Date())
        let event = try IncomingEvent(CloudEvent(id: id, source: "/tests", data: payload))
        return InvoicedOrder(event: event, orderID: order, invoiceID: payload.invoiceID, invoiceNumber: number)
    }

    static func snapshot(_ id: UUID, count: Int, version: Int) -> CustomerSnapshot {
        CustomerSnapshot(
            customerID: id, name: "Ada v\(version)", email: "ada@example.com", address: "x", ordersCount: count, version: version,
            updatedAt: millisecondNow())
    }

    /// Every check.
    public static let checks: [ContractCheck<OrderStore>] = [
        ContractCheck("placing stores the order with its lines and queues its order.created") { store in
            let order = order(lines: [("Tea", 2, "3.50"), ("Cake", 1, "4.25")])
            let placed = try await store.repository.place(order, idempotency: nil, traceparent: testTraceparent)
            #expect(!placed.isReplay && placed.order.id == order.id)
            let stored = try #require(try await store.repository.order(id: order.id))
            #expect(stored.status == .created && stored.customerID == order.customerID && stored.total == Money("11.25"))
            #expect(stored.items == order.items, "lines in the order given")
            #expect(sameInstant(stored.createdAt, order.createdAt) && stored.invoiceID == nil && stored.invoiceNumber == nil)
            #expect(try await store.repository.order(id: UUID()) == nil)
            let events = try await store.pendingEvents()
            #expect(events.map(\.eventType) == ["order.created"])
            let event = try EventCoding.makeDecoder().decode(CloudEvent<OrderCreated>.self, from: try #require(events.first).body)
            var expected = order.createdEvent
            expected.createdAt = event.data.createdAt
            #expect(event.data == expected && sameInstant(event.data.createdAt, order.createdAt))
            #expect(event.subject == order.id.uuidString.lowercased() && event.traceparent == testTraceparent)
            #expect(event.source == stamp.source && events.first?.appID == stamp.appID)
        },
        ContractCheck("an idempotency key replays the same request and refuses another") { store in
            let key = IdempotencyKey(key: "key-\(UUID())", request: #"{"a":1}"#)
            let first = try await store.repository.place(order(), idempotency: key, traceparent: nil)
            let again = try await store.repository.place(order(), idempotency: key, traceparent: nil)
            #expect(again.isReplay && again.order.id == first.order.id)
            let (found, request) = try #require(try await store.repository.order(idempotencyKey: key.key))
            #expect(found.id == first.order.id && request == key.request)
            await #expect {
                try await store.repository.place(order(), idempotency: IdempotencyKey(key: key.key, request: #"{"a":2}"#), traceparent: nil)
            } throws: { ($0 as? OrderStoreError)?.code == .idempotencyKeyReused }
            #expect(try await store.repository.order(idempotencyKey: "never-used") == nil)
            #expect(try await store.pendingEvents().count == 1, "a replay or a refusal queues nothing")
        },
        ContractCheck("pages run oldest first, optionally for one customer, and follow each other without repeats") { store in
            let (ada, bob) = (UUID(), UUID())
            let start = millisecondNow(plus: -100)
            var placed: [Order] = []
            for index in 0..<10 {
                // Pairs share a time: the id breaks the tie.
                let order = order(customer: index % 3 == 0 ? bob : ada, at: start + Double(index / 2))
                placed.append(try await store.repository.place(order, idempotency: nil, traceparent: nil).order)
            }
            let key = { (order: Order) in PageCursor(time: order.createdAt, id: order.id) }
            for customer in [nil, ada, bob] {
                var request = PageRequest(limit: 3)
                var seen: [UUID] = []
                while true {
                    let page = try await store.repository.orders(page: request, customerID: customer)
                    seen += page.map(\.id)
                    guard page.count == request.limit, let last = page.last else { break }
                    request.after = key(last)
                }
                let expected = placed.filter { customer == nil || $0.customerID == customer }.sorted { key($0) < key($1) }.map(\.id)
                #expect(seen == expected, "customer \(customer.map(\.uuidString) ?? "any")")
            }
            #expect(try await store.repository.orders(page: PageRequest(limit: 5), customerID: nil).allSatisfy { !$0.items.isEmpty })
        },
        ContractCheck("an invoice marks its order once, and the first invoice stays") { store in
            let placed = try await store.repository.place(order(), idempotency: nil, traceparent: nil).order
            let invoice = try invoiceCreated(order: placed.id, number: "INV-2026-000001")
            try await store.repository.markInvoiced([invoice, invoice])
            try await store.repository.markInvoiced([invoice])
            try await store.repository.markInvoiced([try invoiceCreated(order: placed.id, number: "INV-2026-000999")])
            let invoiced = try #require(try await store.repository.order(id: placed.id))
            #expect(invoiced.status == .invoiced && invoiced.invoiceID == invoice.invoiceID && invoiced.invoiceNumber == "INV-2026-000001")
            #expect(invoiced.updatedAt >= placed.updatedAt)
        },
        ContractCheck("an invoice that arrives before its order is kept and applied when the order is placed") { store in
            let early = order()
            try await store.repository.markInvoiced([try invoiceCreated(order: early.id, number: "INV-2026-000002")])
            #expect(try await store.repository.order(id: early.id) == nil)
            let placed = try await store.repository.place(early, idempotency: nil, traceparent: nil).order
            #expect(placed.status == .invoiced && placed.invoiceNumber == "INV-2026-000002")
            #expect(try await store.repository.order(id: early.id)?.invoiceNumber == "INV-2026-000002")
        },
        ContractCheck("the customer replica keeps the newest version whatever the order of the events") { store in
            let id = UUID()
            let event = { (payload: CustomerUpdated) in try IncomingEvent(CloudEvent(source: "/tests", data: payload)) }
            let created = try IncomingEvent(CloudEvent(source: "/tests", data: CustomerCreated(customer: snapshot(id, count: 0, version: 1))))
            let v3 = try event(CustomerUpdated(customer: snapshot(id, count: 2, version: 3)))
            let v2 = try event(CustomerUpdated(customer: snapshot(id, count: 1, version: 2)))
            #expect(try await store.repository.customer(id: id) == nil)
            try await store.repository.saveCustomers([snapshot(id, count: 0, version: 1), snapshot(id, count: 2, version: 3)], events: [created, v3])
            try await store.repository.saveCustomers([snapshot(id, count: 1, version: 2)], events: [v2])  // late
            try await store.repository.saveCustomers([snapshot(id, count: 0, version: 1)], events: [created])  // duplicate
            // From an HTTP lookup (no event): only if newer, too.
            try await store.repository.saveCustomers([snapshot(id, count: 0, version: 1)], events: [])
            let replica = try #require(try await store.repository.customer(id: id))
            #expect(replica.version == 3 && replica.ordersCount == 2 && replica.name == "Ada v3")
            try await store.repository.saveCustomers([snapshot(id, count: 5, version: 4)], events: [])
            // Within the repository's cache window a read may still show v3; never an older one.
            #expect(try await store.repository.customer(id: id).map(\.version).map { $0 >= 3 } == true)
        },
    ]
}
