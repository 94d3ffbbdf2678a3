import Broker
import Contracts
import Foundation
import MercatoTesting
import Testing

/// Bad messages on every queue the services consume: malformed JSON, a wrong `type`, an
/// unknown event version, no `message_id`, a wrong content type, a payload of the wrong
/// shape. Each ends in that queue's `.dlq` with its reason, and the consumers carry on.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct AMQPBadInputSystemTests {
    @Test func everyConsumerDeadLettersPoisonWithTheReasonAndCarriesOn() async throws {
        let system = try await MercatoSystem.start()
        let customer = CustomerSnapshot(
            customerID: UUID(), name: "P", email: "p@example.com", address: "Q", ordersCount: 0, version: 1,
            updatedAt: Date())
        let invoice = InvoiceCreated(
            invoiceID: UUID(), invoiceNumber: "INV-2026-000001", orderID: UUID(), customerID: customer.customerID,
            lines: [],
            subtotal: .zero, taxRate: 0, tax: .zero, total: .zero, issuedAt: Date())
        let batches: [(queues: [String], poisons: [PoisonCatalog.Poison])] = [
            (
                [QueueName.customerOrderCreated, QueueName.catalogOrderEvents],
                try PoisonCatalog.all(tag: "amqp-order")
            ),
            (
                [QueueName.orderInvoiceCreated],
                try PoisonCatalog.all(tag: "amqp-invoice", like: CloudEvent(source: "/tests", data: invoice))
            ),
            (
                [QueueName.orderCustomerEvents],
                try PoisonCatalog.all(
                    tag: "amqp-customer", like: CloudEvent(source: "/tests", data: CustomerCreated(customer: customer)))
            ),
        ]
        for batch in batches {
            for poison in batch.poisons { try await system.publish(poison.message) }
        }
        // Good work behind the poison still flows through every consumer.
        let (status, _) = try await system.placeOrder(
            customer: OrderFlowSystemTests.seeds[0], items: [("Tea", 1, "2.00")])
        #expect(status == 201)
        try await system.expectSettled(orders: 1)

        for batch in batches {
            for queue in batch.queues {
                let dead = try await system.drainDeadLetters(of: queue, expecting: batch.poisons.count)
                #expect(dead.count == batch.poisons.count, "\(queue): \(dead.count) dead letters")
                for poison in batch.poisons {
                    let match = dead.first {
                        $0.properties.headers["x-mercato-error"]?.stringValue?.contains(poison.reason) == true
                    }
                    #expect(match != nil, "\(queue): no dead letter for \(poison.name) (\(poison.reason))")
                    #expect(
                        match?.properties.headers["x-mercato-service"]?.stringValue
                            == queue.split(separator: ".").first.map(String.init))
                    #expect(
                        match?.properties.headers["x-original-routing-key"]?.stringValue == poison.message.routingKey)
                }
            }
        }
        // Still ready (or ready again once the database's health is fresh): never a hang.
        for service in MercatoSystem.Service.allCases { try await system.waitUntilReady(service) }
        await system.shutdown()
    }
}
