import Broker
import Contracts
import Foundation
import MercatoTesting
import Postgres
import Testing

/// Dead letters end to end: why they are there, replay after a fix, purge.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct DeadLetterSystemTests {
    @Test func deadLettersCanBeInspectedReplayedAndPurged() async throws {
        let system = try await MercatoSystem.start()
        let cli = CLI(system: system)
        let customerID = UUID()
        let orderID = UUID()
        let event = CloudEvent(
            source: "/tests",
            data: OrderCreated(
                orderID: orderID, customerID: customerID,
                items: [OrderLine(productName: "Tea", quantity: 1, unitPrice: Money("2.00")!)],
                total: Money("2.00")!, createdAt: Date()))
        // customer-service does not know the customer: the event is poison there, while
        // invoice-service invoices the order.
        try await system.publish(OrderFlowSystemTests.amqpMessage(event))
        let queue = QueueName.customerOrderCreated
        var listing = ""
        try await system.eventually("the event is dead-lettered") {
            listing = try await cli.run(["dlq", "list", queue]).output
            return listing.contains(event.id)
        }
        #expect(listing.contains("unknown customer \(customerID.uuidString.lowercased())"), "\(listing)")
        let invoices = {
            try await system.database(.invoice).query("SELECT count(*) FROM invoices WHERE order_id = $1", orderID)[0]
                .decode(Int.self, at: 0)
        }
        try await system.eventually("invoice-service invoiced the order") { try await invoices() == 1 }
        let overview = try await cli.run(["dlq", "list"])
        #expect(overview.status == 0, "\(overview.output)")
        let shown = try await cli.run(["dlq", "show", queue, "--id", event.id])
        #expect(shown.output.contains("header x-mercato-service: customer-service"))
        #expect(shown.output.contains("header x-original-exchange: orders"))
        #expect(shown.output.contains(customerID.uuidString.lowercased()))

        // The fix: the customer now exists. Then the replay.
        try await system.database(.customer).query(
            """
            INSERT INTO customers (id, name, email, address, orders_count, version, created_at, updated_at)
            VALUES ($1, 'Late Customer', 'late@example.com', 'Nowhere', 0, 1, now(), now())
            """, customerID)
        let replay = try await cli.run(["dlq", "replay", queue])
        #expect(replay.status == 0, "\(replay.output)")
        #expect(replay.output.contains("replayed 1 message(s)"))
        try await system.eventually("the replayed event is counted") {
            try await system.database(.customer).query("SELECT orders_count FROM customers WHERE id = $1", customerID)[
                0
            ]
            .decode(Int.self, at: 0) == 1
        }
        // The replay went back to customer-service's queue alone: invoice-service, bound to the
        // same exchange and key, saw nothing (and would have done nothing: its inbox holds the
        // event id).
        #expect(try await invoices() == 1)
        #expect(!(try await cli.run(["dlq", "list", queue]).output.contains(event.id)))

        // Purge.
        try await system.publish(
            OutboundMessage(
                exchange: ExchangeName.orders, routingKey: EventType.orderCreated.name,
                properties: MessageProperties(contentType: "application/cloudevents+json", messageID: "junk"),
                body: Data("junk".utf8)))
        try await system.eventually("the junk is dead-lettered") {
            try await cli.run(["dlq", "list", queue]).output.contains("junk")
        }
        let purge = try await cli.run(["dlq", "purge", queue])
        #expect(purge.output.contains("purged 1 message(s)"), "\(purge.output)")
        #expect(!(try await cli.run(["dlq", "list", queue]).output.contains("junk")))
        await system.shutdown()
    }

    /// A dead letter's id, type and headers are whatever its producer wrote: `list` and `show`
    /// print their control characters escaped, never to the operator's terminal as they are.
    @Test func deadLettersArePrintedWithTheirControlCharactersEscaped() async throws {
        let system = try await MercatoSystem.start()
        let cli = CLI(system: system)
        let id = "junk-\u{1B}[2J-\(UUID().uuidString.prefix(8))"
        var properties = MessageProperties(
            contentType: "application/cloudevents+json", messageID: id, type: "order.created\u{1B}[8m")
        properties.headers["x-note"] = .string("\u{1B}]0;owned\u{07}\u{9B}31m\u{202E}txt.exe")
        try await system.publish(
            OutboundMessage(
                exchange: ExchangeName.orders, routingKey: EventType.orderCreated.name, properties: properties,
                body: Data("junk\u{1B}[31m".utf8)))
        let queue = QueueName.customerOrderCreated
        let escapedID = #"junk-\u{1B}[2J-"# + id.suffix(8)
        try await system.eventually("the junk is dead-lettered") {
            try await cli.run(["dlq", "list", queue]).output.contains(escapedID)
        }
        let listing = try await cli.run(["dlq", "list", queue])
        let shown = try await cli.run(["dlq", "show", queue, "--id", escapedID])
        #expect(shown.status == 0, "\(shown.output)")
        for output in [listing.output, shown.output] {
            let controls = output.unicodeScalars.filter {
                ($0.properties.generalCategory == .control && $0 != "\n") || $0 == "\u{202E}"
            }
            #expect(controls.isEmpty, "\(output.debugDescription)")
        }
        #expect(shown.output.contains(#"type: order.created\u{1B}[8m"#), "\(shown.output)")
        #expect(
            shown.output.contains(#"header x-note: \u{1B}]0;owned\u{7}\u{9B}31m\u{202E}txt.exe"#), "\(shown.output)")
        #expect(shown.output.contains(#"junk\u{1B}[31m"#), "\(shown.output)")
        await system.shutdown()
    }
}

/// The `mercato` executable, pointed at a system's vhost.
struct CLI {
    let system: MercatoSystem

    func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["AMQP_URL"] = system.amqpURL
        // A test's deadline is there to fail instead of hang, not to time the broker: a
        // debug build beside other suites may take more than the operator's 10 s to connect.
        environment["MERCATO_BROKER_TIMEOUT"] = "60"
        let result = try await runProcess(
            arguments, executable: MercatoSystem.binDirectory.appendingPathComponent("mercato"),
            environment: environment,
            mergingStandardError: true)
        return (result.status, result.output)
    }
}
