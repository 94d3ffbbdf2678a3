import Contracts
import Foundation
@testable import OrderService
import ServiceKit
import Testing

struct OrderServiceTests {
    let repository = MemoryOrderRepository()

    func item(_ name: String = "Tea", _ quantity: Int = 1, _ price: String = "3.50") -> NewOrder.Item {
        NewOrder.Item(productName: name, quantity: quantity, unitPrice: Money(price)!)
    }

    @Test func validatesOrders() throws {
        let customer = UUID()
        let valid = try NewOrder(customerID: customer, items: [item(" Tea ", 2, "3.50")]).validated()
        #expect(valid.items[0].productName == "Tea")
        #expect(valid.lines[0].lineTotal == Money("7.00"))
        let cases: [(NewOrder, String)] = [
            (NewOrder(customerID: customer, items: []), "items"),
            (NewOrder(customerID: customer, items: Array(repeating: item(), count: 101)), "items"),
            (NewOrder(customerID: customer, items: [item(), item("Tea", 0)]), "items[1].quantity"),
            (NewOrder(customerID: customer, items: [item("Tea", 10_001)]), "items[0].quantity"),
            (NewOrder(customerID: customer, items: [item("Tea", 1, "-0.01")]), "items[0].unit_price"),
            (NewOrder(customerID: customer, items: [item("Tea", 1, "0.001")]), "items[0].unit_price"),
            (NewOrder(customerID: customer, items: [item("Tea", 1, "1000000.01")]), "items[0].unit_price"),
            (NewOrder(customerID: customer, items: [item("", 1)]), "items[0].product_name"),
            (NewOrder(customerID: customer, items: [item(String(repeating: "x", count: 201))]), "items[0].product_name"),
        ]
        for (order, field) in cases {
            #expect { try order.validated() } throws: { ($0 as? APIError)?.field == field && ($0 as? APIError)?.code == "validation_failed" }
        }
        // Zero is a price (a free sample), not an error.
        #expect(throws: Never.self) { try NewOrder(customerID: customer, items: [item("Sample", 1, "0")]).validated() }
    }

    @Test func decodingNamesTheField() throws {
        let decoder = EventCoding.makeDecoder()
        func field(_ json: String) -> String? {
            do {
                _ = try decoder.decode(NewOrder.self, from: Data(json.utf8))
                return nil
            } catch let error as DecodingError {
                return APIError(decoding: error).field
            } catch { return nil }
        }
        let id = UUID().uuidString
        #expect(field(#"{"customer_id":"nope","items":[]}"#) == "customer_id")
        #expect(field(#"{"customer_id":"\#(id)","items":[{"product_name":"a","quantity":1.5,"unit_price":1}]}"#) == "items[0].quantity")
        #expect(field(#"{"customer_id":"\#(id)","items":[{"product_name":"a","quantity":1e30,"unit_price":1}]}"#) == "items[0].quantity")
        #expect(field(#"{"customer_id":"\#(id)","items":[{"product_name":"a","quantity":1,"unit_price":"1,5"}]}"#) == "items[0].unit_price")
        // Valid JSON numbers beyond Decimal's range.
        #expect(field(#"{"customer_id":"\#(id)","items":[{"product_name":"a","quantity":1e+308,"unit_price":1}]}"#) == "items[0].quantity")
        #expect(field(#"{"customer_id":"\#(id)","items":[{"product_name":"a","quantity":1,"unit_price":1e308}]}"#) == "items[0].unit_price")
        #expect(field(#"{"customer_id":"\#(id)","items":[{"quantity":1,"unit_price":1}]}"#) == "items[0].product_name")
        #expect(field(#"{"items":[]}"#) == "customer_id")
    }

    @Test func equivalentRequestsHaveTheSameCanonicalForm() throws {
        let customer = UUID()
        let a = NewOrder(customerID: customer, items: [item("Tea", 1, "3.5")])
        let b = NewOrder(customerID: customer, items: [item("Tea", 1, "3.50")])
        let c = NewOrder(customerID: customer, items: [item("Tea", 2, "3.50")])
        #expect(a.canonicalJSON == b.canonicalJSON)
        #expect(a.canonicalJSON != c.canonicalJSON)
    }

    func order(customer: UUID = UUID()) -> Order {
        let lines = [OrderLine(productName: "Tea", quantity: 2, unitPrice: Money("3.50")!)]
        return Order(id: UUID(), customerID: customer, status: .created, items: lines, total: Money("7.00")!, createdAt: Date(), updatedAt: Date())
    }

    @Test func placingQueuesOrderCreatedWithTheTraceContext() async throws {
        let placed = try await repository.place(order(), idempotency: nil, traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let events = repository.outbox.pending
        #expect(events.count == 1)
        let event = try EventCoding.makeDecoder().decode(CloudEvent<OrderCreated>.self, from: events[0].body)
        #expect(event.data.orderID == placed.order.id)
        #expect(event.data.total == Money("7.00"))
        #expect(event.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    }

    @Test func idempotencyKeysReplayOrConflict() async throws {
        let key = IdempotencyKey(key: "k", request: "{a}")
        let first = try await repository.place(order(), idempotency: key, traceparent: nil)
        let again = try await repository.place(order(), idempotency: key, traceparent: nil)
        #expect(again.isReplay)
        #expect(again.order.id == first.order.id)
        await #expect { try await repository.place(order(), idempotency: IdempotencyKey(key: "k", request: "{b}"), traceparent: nil) }
            throws: { ($0 as? APIError)?.code == "idempotency_key_reused" }
        #expect(repository.outbox.pending.count == 1)
    }

    func invoiceCreated(order: UUID, number: String, id: String = UUID().uuidString) throws -> IncomingEvent {
        try IncomingEvent(
            CloudEvent(
                id: id, source: "/tests",
                data: InvoiceCreated(
                    invoiceID: UUID(), invoiceNumber: number, orderID: order, customerID: UUID(), lines: [], subtotal: .zero, taxRate: 0,
                    tax: .zero, total: .zero, issuedAt: Date())))
    }

    @Test func invoicesMarkOrdersOnceAndEarlyOnesWait() async throws {
        let handler = InvoiceCreatedHandler(repository: repository)
        let placed = try await repository.place(order(), idempotency: nil, traceparent: nil).order
        let event = try invoiceCreated(order: placed.id, number: "INV-2026-000001")
        try await handler.apply([event, event])
        try await handler.apply([try invoiceCreated(order: placed.id, number: "INV-2026-000999")])
        let invoiced = try #require(try await repository.order(id: placed.id))
        #expect(invoiced.status == .invoiced)
        #expect(invoiced.invoiceNumber == "INV-2026-000001")

        // An invoice before its order: kept, and applied when the order is stored.
        let early = order()
        try await handler.apply([try invoiceCreated(order: early.id, number: "INV-2026-000002")])
        let stored = try await repository.place(early, idempotency: nil, traceparent: nil).order
        #expect(stored.status == .invoiced)
        #expect(stored.invoiceNumber == "INV-2026-000002")
    }

    func snapshot(_ id: UUID, count: Int, version: Int) -> CustomerSnapshot {
        CustomerSnapshot(customerID: id, name: "Ada", email: "ada@example.com", address: "x", ordersCount: count, version: version, updatedAt: Date())
    }

    @Test func theReplicaNeverMovesBackwards() async throws {
        let handler = CustomerEventsHandler(repository: repository)
        let id = UUID()
        let created = try IncomingEvent(CloudEvent(source: "/tests", data: CustomerCreated(customer: snapshot(id, count: 0, version: 1))))
        let v3 = try IncomingEvent(CloudEvent(source: "/tests", data: CustomerUpdated(customer: snapshot(id, count: 2, version: 3))))
        let v2 = try IncomingEvent(CloudEvent(source: "/tests", data: CustomerUpdated(customer: snapshot(id, count: 1, version: 2))))
        try await handler.apply([created, v3])
        try await handler.apply([v2])  // late
        try await handler.apply([created])  // duplicate
        #expect(try await repository.customer(id: id)?.version == 3)
        #expect(try await repository.customer(id: id)?.ordersCount == 2)
    }
}

struct CustomerCacheTests {
    static func customer(version: Int) -> CustomerSnapshot {
        CustomerSnapshot(
            customerID: UUID(uuidString: "c0ffee00-0000-4000-8000-000000000001")!, name: "Ada", email: "ada@example.com", address: "London",
            ordersCount: version, version: version, updatedAt: Date())
    }

    @Test func entriesExpireAndNeverGoBackwards() {
        let cache = CustomerCache(maxAge: .seconds(1), capacity: 10)
        let start = ContinuousClock.now
        let id = Self.customer(version: 1).customerID
        cache.remember(Self.customer(version: 2), now: start)
        cache.remember(Self.customer(version: 1), now: start)
        #expect(cache.customer(id, now: start + .milliseconds(500))?.version == 2)
        #expect(cache.customer(id, now: start + .milliseconds(1500)) == nil)
        cache.remember(Self.customer(version: 3), now: start + .seconds(2))
        #expect(cache.customer(id, now: start + .milliseconds(2500))?.version == 3)
    }
}
