import Broker
import Contracts
import Foundation
import MercatoTesting
import Postgres
import Testing

/// The three services end to end, as separate processes over real RabbitMQ and PostgreSQL.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct OrderFlowSystemTests {
    static let seeds = [
        "c0ffee00-0000-4000-8000-000000000001", "c0ffee00-0000-4000-8000-000000000002",
        "c0ffee00-0000-4000-8000-000000000003",
    ]

    @Test func twoHundredConcurrentOrdersAddUp() async throws {
        let system = try await MercatoSystem.start()
        // A customer created a moment ago can order at once (replica miss: HTTP lookup).
        let (created, customer) = try await system.request(
            .customer, "POST", "/customers",
            json: ["name": "Edsger Dijkstra", "email": "edsger@example.com", "address": "Austin"])
        #expect(created == 201)
        let newCustomer = try #require((customer as? [String: Any])?["id"] as? String)
        let customers = Self.seeds + [newCustomer]

        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            var statuses: [Int] = []
            for index in 0..<200 {
                if index >= 16 { statuses.append(try await group.next()!) }
                group.addTask {
                    let (status, _) = try await system.placeOrder(
                        customer: customers[index % customers.count],
                        items: [("Item \(index)", 1 + index % 3, "9.99"), ("Extra", 1, "0.01")])
                    return status
                }
            }
            for try await status in group { statuses.append(status) }
            return statuses
        }
        #expect(
            statuses.filter { $0 == 201 }.count == 200,
            "statuses: \(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
        try await system.expectSettled(orders: 200)

        // The APIs agree with the databases.
        let (status, body) = try await system.request(.customer, "GET", "/customers/\(newCustomer)")
        #expect(status == 200)
        #expect((body as? [String: Any])?["orders_count"] as? Int == 50)
        let (_, orders) = try await system.request(.order, "GET", "/orders?customer_id=\(newCustomer)&limit=100")
        let page = try #require((orders as? [String: Any])?["data"] as? [[String: Any]])
        #expect(page.count == 50)
        #expect(page.allSatisfy { $0["status"] as? String == "invoiced" && $0["invoice_number"] is String })
        let orderID = try #require(page.first?["id"] as? String)
        let (_, invoices) = try await system.request(.invoice, "GET", "/invoices?order_id=\(orderID)")
        let invoice = try #require(((invoices as? [String: Any])?["data"] as? [[String: Any]])?.first)
        #expect(invoice["order_id"] as? String == orderID)
        #expect((invoice["number"] as? String)?.hasPrefix("INV-") == true)
        // order-service's replica converges on the count too: customer-service announces
        // count changes coalesced, once a second per changed customer.
        try await system.eventually("the order's customer shows orders_count 50") {
            let (_, order) = try await system.request(.order, "GET", "/orders/\(orderID)")
            return ((order as? [String: Any])?["customer"] as? [String: Any])?["orders_count"] as? Int == 50
        }
        await system.shutdown()
    }

    @Test func aDuplicatedEventChangesNothing() async throws {
        let system = try await MercatoSystem.start()
        let orderID = UUID()
        let customerID = UUID(uuidString: Self.seeds[0])!
        let event = CloudEvent(
            source: "/tests",
            data: OrderCreated(
                orderID: orderID, customerID: customerID,
                items: [OrderLine(productName: "Tea", quantity: 2, unitPrice: Money("3.50")!)],
                total: Money("7.00")!, createdAt: Date()))
        let message = try Self.amqpMessage(event)
        let consumers = [
            (MercatoSystem.Service.customer, QueueName.customerOrderCreated), (.catalog, QueueName.catalogOrderEvents),
        ]
        func handled() async throws -> [Double] {
            var counts: [Double] = []
            for (service, queue) in consumers {
                counts.append(
                    try await system.metrics(service).value(
                        "mercato_events_consumed_total", ["queue": queue, "event_type": "order.created"]) ?? 0)
            }
            return counts
        }
        let before = try await handled()
        try await system.publish(message)
        try await system.publish(message)
        // Both copies handled by both consumers (the counter counts what a consumer applied
        // and acknowledged, repeats included): only then is "changed nothing" a finding.
        try await system.eventually("both copies are handled by both consumers") {
            try await zip(handled(), before).allSatisfy { $0 - $1 >= 2 }
        }
        let count = try await system.database(.customer).query(
            "SELECT orders_count FROM customers WHERE id = $1", customerID)[0]
            .decode(Int.self, at: 0)
        #expect(count == 1)
        // The invoice follows the one reservation (its `stock.reserved`): an order without
        // SKUs, as placed before the catalog, reserves nothing and is invoiced all the same.
        try await system.eventually("the order is invoiced") {
            try await system.database(.invoice).query(
                "SELECT count(*) FROM invoices WHERE order_id = $1", orderID)[0].decode(Int.self, at: 0) == 1
        }

        await system.shutdown()
    }

    @Test func aMalformedMessageIsDeadLetteredAndTheRestFlows() async throws {
        let system = try await MercatoSystem.start()
        try await system.publish(
            OutboundMessage(
                exchange: ExchangeName.orders, routingKey: EventType.orderCreated.name,
                properties: MessageProperties(
                    contentType: "application/cloudevents+json", messageID: "garbage-1", type: "order.created"),
                body: Data("{not json".utf8)))
        let (status, _) = try await system.placeOrder(customer: Self.seeds[1], items: [("Coffee", 1, "2.50")])
        #expect(status == 201)
        try await system.expectSettled(orders: 1)
        for queue in [QueueName.customerOrderCreated, QueueName.catalogOrderEvents] {
            let dead = try await system.deadLetters(of: queue, expecting: 1)
            #expect(dead.count == 1)
            #expect(dead.first?.properties.messageID == "garbage-1")
            #expect(
                dead.first?.properties.headers["x-mercato-error"]?.stringValue?.contains("not a CloudEvents envelope")
                    == true)
            #expect(dead.first?.properties.headers["x-original-exchange"]?.stringValue == ExchangeName.orders)
        }
        await system.shutdown()
    }

    @Test func stoppedConsumersCatchUp() async throws {
        let system = try await MercatoSystem.start()
        await system.stop(.customer)
        await system.stop(.invoice)
        for index in 0..<50 {
            let (status, body) = try await system.placeOrder(
                customer: Self.seeds[index % 3], items: [("Book \(index)", 1, "12.00")])
            #expect(status == 201, "\(body)")
        }
        try await system.restart(.customer)
        try await system.restart(.invoice)
        try await system.expectSettled(orders: 50)
        await system.shutdown()
    }

    @Test func idempotencyKeysAndBadInput() async throws {
        let system = try await MercatoSystem.start()
        let key = ["Idempotency-Key": "retry-\(UUID())"]
        let (first, order) = try await system.placeOrder(
            customer: Self.seeds[2], items: [("Pen", 3, "1.20")], headers: key)
        let (again, replay) = try await system.placeOrder(
            customer: Self.seeds[2], items: [("Pen", 3, "1.20")], headers: key)
        let (conflict, error) = try await system.placeOrder(
            customer: Self.seeds[2], items: [("Pen", 4, "1.20")], headers: key)
        #expect(first == 201)
        #expect(again == 201)
        #expect(order["id"] as? String == replay["id"] as? String)
        #expect(order["total"] as? String == "3.60")
        #expect(conflict == 409)
        #expect((error["error"] as? [String: Any])?["code"] as? String == "idempotency_key_reused")

        let (unknown, unknownBody) = try await system.placeOrder(
            customer: UUID().uuidString, items: [("Pen", 1, "1.00")])
        #expect(unknown == 422)
        #expect((unknownBody["error"] as? [String: Any])?["field"] as? String == "customer_id")
        let (empty, emptyBody) = try await system.placeOrder(customer: Self.seeds[0], items: [])
        #expect(empty == 422)
        #expect((emptyBody["error"] as? [String: Any])?["field"] as? String == "items")
        let (zero, zeroBody) = try await system.placeOrder(customer: Self.seeds[0], items: [("Pen", 0, "1.00")])
        #expect(zero == 422)
        #expect((zeroBody["error"] as? [String: Any])?["field"] as? String == "items[0].quantity")
        // Nothing of the refused requests was written: one order in total.
        try await system.expectSettled(orders: 1)
        await system.shutdown()
    }

    static func amqpMessage<Payload: EventPayload>(_ event: CloudEvent<Payload>) throws -> OutboundMessage {
        OutboundMessage(
            exchange: Payload.eventType.exchange, routingKey: Payload.eventType.name,
            properties: MessageProperties(
                contentType: CloudEvent<Payload>.contentType, messageID: event.id, type: event.type, appID: "tests"),
            body: try EventCoding.makeEncoder().encode(event))
    }
}
