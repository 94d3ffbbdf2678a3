@testable import Broker
import Contracts
import Foundation
import Logging
import ContractTesting
import MercatoTesting
import Testing

/// Least privilege on the broker, against RabbitMQ itself: each service's user may do only
/// what that service does, the broker vouches for every event's producer, and an event from
/// the wrong producer changes nothing.
@Suite(.needsSystem, .serialized, .timeLimit(.minutes(5)))
struct BrokerPermissionSystemTests {
    /// A connection as `service`'s own broker user.
    static func connection(
        as service: MercatoSystem.Service, of system: MercatoSystem, stampsUserID: Bool = true, logger: Logger = MercatoSystem.quietLogger
    ) throws -> RabbitMQBroker {
        var configuration = try RabbitMQBroker.Configuration(url: system.serviceAMQPURL(service))
        configuration.connectionName = "forger"
        configuration.stampsUserID = stampsUserID
        return RabbitMQBroker(configuration: configuration, logger: logger)
    }

    /// Whether `error` is RabbitMQ's refusal `code` (`text` in its reply).
    static func isRefused(_ error: any Error, code: Int, _ text: String) -> Bool {
        "\(error)".contains(text) || (error as? BrokerError)?.replyCode == code
    }

    static func invoiceCreated(order: String, customer: String) throws -> OutboundMessage {
        let invoice = InvoiceCreated(
            invoiceID: UUID(), invoiceNumber: "INV-1999-999999", orderID: UUID(uuidString: order)!, customerID: UUID(uuidString: customer)!,
            lines: [], subtotal: .zero, taxRate: 0, tax: .zero, total: .zero, issuedAt: Date())
        return try OrderFlowSystemTests.amqpMessage(CloudEvent(source: "/mercato/invoice-service", data: invoice))
    }

    @Test func eachServiceUserMayOnlyDoWhatItsServiceDoes() async throws {
        let system = try await MercatoSystem.start()
        let log = LogRecording()
        let customerService = try Self.connection(as: .customer, of: system, logger: log.logger(level: .warning))
        try await customerService.withRunning {
            // Not its exchange: the broker refuses the publish.
            await #expect { try await customerService.publish(try Self.invoiceCreated(order: UUID().uuidString, customer: UUID().uuidString)) } throws: {
                Self.isRefused($0, code: 403, "ACCESS_REFUSED")
            }
            // Not its queue: the broker refuses the consumer (the wrapper keeps trying to
            // subscribe in the background; the queue never gets a second consumer).
            let stolen = try? await customerService.consume(queue: QueueName.orderInvoiceCreated, prefetch: 1)
            try await log.waitFor("the broker refuses the subscription") { $0.text.contains("ACCESS_REFUSED") && $0.text.contains(QueueName.orderInvoiceCreated) }
            #expect(try await system.broker.inspect(queue: QueueName.orderInvoiceCreated).consumerCount == 1)
            await stolen?.cancel()
            // No configure permission: it cannot declare (or delete) anything.
            await #expect { try await customerService.declare(Topology(queues: [.init(name: "customer-service.rogue")])) } throws: {
                Self.isRefused($0, code: 403, "ACCESS_REFUSED")
            }
        }
        // A publish claiming another user than the connection's is refused by RabbitMQ.
        let forger = try Self.connection(as: .customer, of: system, stampsUserID: false)
        try await forger.withRunning {
            var message = OutboundMessage(exchange: ExchangeName.customers, routingKey: "customer.updated", properties: MessageProperties(messageID: "spoofed"), body: Data("{}".utf8))
            message.properties.userID = "invoice-service"
            await #expect { try await forger.publish(message) } throws: {
                Self.isRefused($0, code: 406, "PRECONDITION_FAILED")
            }
        }
        await system.shutdown()
    }

    /// A service whose user may not declare waits for the admin step, and says what it misses.
    @Test func withoutTheAdminStepReadinessNamesTheMissingQueues() async throws {
        let system = try await MercatoSystem.start(applyTopology: false)
        try await system.eventually("invoice-service to report its missing queue") {
            let (status, body) = try await system.request(.invoice, "GET", "/health/ready")
            let checks = (body as? [String: Any])?["checks"] as? [String: Bool] ?? [:]
            return status == 503 && checks["topology:\(QueueName.invoiceOrderCreated)"] == false
        }
        // The admin applies it; the services notice by themselves.
        try await system.broker.declare(.mercato())
        for service in MercatoSystem.Service.allCases { try await system.waitUntilReady(service) }
        await system.shutdown()
    }

    @Test func anInvoiceCreatedForgedByCustomerServiceIsDeadLetteredAndChangesNothing() async throws {
        let system = try await MercatoSystem.start()
        let customer = OrderFlowSystemTests.seeds[0]
        let (status, order) = try await system.placeOrder(customer: customer, items: [("Tea", 1, "1.00")])
        #expect(status == 201)
        let orderID = try #require(order["id"] as? String)
        try await system.eventually("the order to be invoiced") {
            (try await system.request(.order, "GET", "/orders/\(orderID)").1 as? [String: Any])?["status"] as? String == "invoiced"
        }
        let (_, before) = try await system.request(.order, "GET", "/orders/\(orderID)")

        // customer-service may write to the default exchange (its own delay queues are behind
        // it), so it can reach order-service's queue directly: the broker stamps its user.
        let customerService = try Self.connection(as: .customer, of: system)
        var forged = try Self.invoiceCreated(order: orderID, customer: customer)
        forged.properties.headers[FailureHeader.producer] = .string("invoice-service")
        let direct = OutboundMessage(exchange: "", routingKey: QueueName.orderInvoiceCreated, properties: forged.properties, body: forged.body)
        try await customerService.withRunning { try await customerService.publish(direct) }

        let deadLetterQueue = QueueName.deadLetter(of: QueueName.orderInvoiceCreated)
        try await system.eventually("the forged event to be dead-lettered") {
            try await system.broker.inspect(queue: deadLetterQueue).messageCount == 1
        }
        let consumer = try await system.broker.consume(queue: deadLetterQueue, prefetch: 1)
        let dead = try await nextDelivery(consumer)
        let reason = dead.properties.headers[FailureHeader.error]?.stringValue ?? ""
        #expect(reason.hasPrefix("forbidden_publisher: invoice.created from customer-service"), "\(reason)")
        #expect(dead.properties.userID == "customer-service" || dead.properties.headers[FailureHeader.producer]?.stringValue == "customer-service")
        try await dead.ack()
        await consumer.cancel()
        let (_, after) = try await system.request(.order, "GET", "/orders/\(orderID)")
        #expect((after as? [String: Any])?["invoice_number"] as? String == (before as? [String: Any])?["invoice_number"] as? String)
        #expect((after as? [String: Any])?["invoice_number"] as? String != "INV-1999-999999")
        await system.shutdown()
    }
}
