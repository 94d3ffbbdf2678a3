import ContractTesting
import Contracts
import Foundation
import Locking
import Logging
import MercatoTesting
import ServiceKit
import Testing

@testable import Broker

/// Least privilege on the broker, against RabbitMQ itself: each service's user may do only
/// what that service does, the broker vouches for every event's producer, and an event from
/// the wrong producer changes nothing.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct BrokerPermissionSystemTests {
    /// A connection as `service`'s own broker user.
    static func connection(
        as service: MercatoSystem.Service, of system: MercatoSystem, stampsUserID: Bool = true,
        logger: Logger = MercatoSystem.quietLogger
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
            invoiceID: UUID(), invoiceNumber: "INV-1999-999999", orderID: UUID(uuidString: order)!,
            customerID: UUID(uuidString: customer)!,
            lines: [], subtotal: .zero, taxRate: 0, tax: .zero, total: .zero, issuedAt: Date())
        return try OrderFlowSystemTests.amqpMessage(CloudEvent(source: "/mercato/invoice-service", data: invoice))
    }

    @Test func eachServiceUserMayOnlyDoWhatItsServiceDoes() async throws {
        let system = try await MercatoSystem.start()
        let log = LogRecording()
        let customerService = try Self.connection(as: .customer, of: system, logger: log.logger(level: .warning))
        try await customerService.withRunning {
            // Not its exchange: the broker refuses the publish.
            await #expect {
                try await customerService.publish(
                    try Self.invoiceCreated(order: UUID().uuidString, customer: UUID().uuidString))
            } throws: {
                Self.isRefused($0, code: 403, "ACCESS_REFUSED")
            }
            // Not its queue: the broker refuses the consumer (the wrapper keeps trying to
            // subscribe in the background; the queue never gets a second consumer).
            let stolen = try? await customerService.consume(queue: QueueName.orderInvoiceCreated, prefetch: 1)
            try await log.waitFor("the broker refuses the subscription") {
                $0.text.contains("ACCESS_REFUSED") && $0.text.contains(QueueName.orderInvoiceCreated)
            }
            #expect(try await system.broker.inspect(queue: QueueName.orderInvoiceCreated).consumerCount == 1)
            await stolen?.cancel()
            // No configure permission: it cannot declare (or delete) anything.
            await #expect {
                try await customerService.declare(Topology(queues: [.init(name: "customer-service.rogue")]))
            } throws: {
                Self.isRefused($0, code: 403, "ACCESS_REFUSED")
            }
        }
        // A publish claiming another user than the connection's is refused by RabbitMQ.
        let forger = try Self.connection(as: .customer, of: system, stampsUserID: false)
        try await forger.withRunning {
            var message = OutboundMessage(
                exchange: ExchangeName.customers, routingKey: "customer.updated",
                properties: MessageProperties(messageID: "spoofed"), body: Data("{}".utf8))
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
            return status == 503 && checks["topology:\(QueueName.invoiceStockReserved)"] == false
        }
        // The admin applies it; the services notice by themselves.
        try await system.broker.declare(.mercato())
        for service in MercatoSystem.Service.allCases { try await system.waitUntilReady(service) }
        await system.shutdown()
    }

    @Test func anInvoiceCreatedForgedByCustomerServiceCannotReachOrderServicesQueue() async throws {
        let system = try await MercatoSystem.start()
        let customer = OrderFlowSystemTests.seeds[0]
        let (status, order) = try await system.placeOrder(customer: customer, items: [("Tea", 1, "1.00")])
        #expect(status == 201)
        let orderID = try #require(order["id"] as? String)
        try await system.eventually("the order to be invoiced") {
            (try await system.request(.order, "GET", "/orders/\(orderID)").1 as? [String: Any])?["status"] as? String
                == "invoiced"
        }
        let (_, before) = try await system.request(.order, "GET", "/orders/\(orderID)")

        // The default exchange reaches any queue by its name: customer-service may not write
        // to it (its retries go through its own exchange), so it cannot push an event
        // straight into order-service's queue, nor into its delay queues.
        let customerService = try Self.connection(as: .customer, of: system)
        var forged = try Self.invoiceCreated(order: orderID, customer: customer)
        forged.properties.headers[FailureHeader.producer] = .string("invoice-service")
        try await customerService.withRunning {
            for queue in [
                QueueName.orderInvoiceCreated,
                RetryPolicy.delayQueue(of: QueueName.orderInvoiceCreated, afterAttempt: 1),
            ] {
                let direct = OutboundMessage(
                    exchange: "", routingKey: queue, properties: forged.properties, body: forged.body)
                await #expect { try await customerService.publish(direct) } throws: {
                    Self.isRefused($0, code: 403, "ACCESS_REFUSED")
                }
            }
        }
        #expect(
            try await system.broker.inspect(queue: QueueName.deadLetter(of: QueueName.orderInvoiceCreated)).messageCount
                == 0)
        let (_, after) = try await system.request(.order, "GET", "/orders/\(orderID)")
        #expect(
            (after as? [String: Any])?["invoice_number"] as? String == (before as? [String: Any])?["invoice_number"]
                as? String)
        #expect((after as? [String: Any])?["invoice_number"] as? String != "INV-1999-999999")
        await system.shutdown()
    }

    /// Retries and dead letters under least privilege: a consumer logged in as
    /// customer-service moves a failing event through its own exchange into its delay queue
    /// (and gets it back), and a poison event into its `.dlq`, which the operator's replay
    /// sends back to it with the producer it recorded.
    @Test func retriesAndDeadLettersGoThroughTheServicesOwnExchange() async throws {
        let system = try await MercatoSystem.start()
        // Its queue is this test's consumer's alone.
        await system.stop(.customer)
        let flaky = UUID().uuidString.lowercased()
        let poison = UUID().uuidString.lowercased()
        let handler = FlakyHandler(failingOnce: [flaky], poison: [poison])
        let queue = QueueName.customerOrderCreated
        let broker = try Self.connection(as: .customer, of: system)
        let readiness = Readiness()
        readiness.markUp(Readiness.database)
        readiness.markUp(Readiness.broker)
        var configuration = EventConsumer.Configuration()
        configuration.producers = ProducerPolicy(republishers: [
            "customer-service", try RabbitMQBroker.Configuration(url: system.amqpURL).username,
        ])
        let consumer = EventConsumer(
            queue: queue, handler: handler, broker: broker, readiness: readiness, serviceName: "customer-service",
            configuration: configuration,
            logger: MercatoSystem.quietLogger)
        try await broker.withRunning {
            let running = Task { try await consumer.run() }
            defer { running.cancel() }
            for id in [flaky, poison] {
                let event = CloudEvent(
                    id: id, source: "/tests",
                    data: OrderCreated(orderID: UUID(), customerID: UUID(), items: [], total: .zero, createdAt: Date()))
                try await system.publish(try OrderFlowSystemTests.amqpMessage(event))
            }
            try await system.eventually("the failing event is applied after its retry", timeout: .seconds(30)) {
                handler.applied.withLock { $0.contains(flaky) }
            }
            let deadLetterQueue = QueueName.deadLetter(of: queue)
            try await system.eventually("the poison event is dead-lettered", timeout: .seconds(30)) {
                try await system.broker.inspect(queue: deadLetterQueue).messageCount == 1
            }
            // Written by the consumer's own user, with the producer the broker vouched for.
            let dead = try await system.broker.consume(queue: deadLetterQueue, prefetch: 1)
            let letter = try await nextDelivery(dead)
            #expect(letter.properties.userID == "customer-service")
            #expect(letter.properties.headers[FailureHeader.producer]?.stringValue == "order-service")
            try await letter.nack(requeue: true)
            await dead.cancel()
            try await system.eventually("the dead letter is back in its queue") {
                try await system.broker.inspect(queue: deadLetterQueue).messageCount == 1
            }

            // The fix, then the operator's replay: back to this queue, accepted, applied.
            handler.poison.withLock { $0.removeAll() }
            let replay = try await CLI(system: system).run(["dlq", "replay", queue])
            #expect(replay.status == 0, "\(replay.output)")
            #expect(replay.output.contains("replayed 1 message(s)"), "\(replay.output)")
            try await system.eventually("the replayed event is applied", timeout: .seconds(30)) {
                handler.applied.withLock { $0.contains(poison) }
            }
        }
        await system.shutdown()
    }
}
