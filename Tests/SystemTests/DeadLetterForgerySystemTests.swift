import Contracts
import Foundation
import MercatoTesting
import Postgres
import Testing

@testable import Broker

/// A payment forged through the dead-letter queues (issue 23, item 7), played against
/// RabbitMQ, the three services and the operator CLI: with customer-service's broker
/// credentials alone, an `invoice.paid` claiming invoice-service is put into a dead-letter
/// queue, and the operator's routine `mercato dlq replay` must not turn it into a paid order.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct DeadLetterForgerySystemTests {
    /// The forgery: an `invoice.paid` of `invoice` (its real number and amount), dressed as a
    /// dead letter order-service's consumer wrote after a timeout, with headers claiming that
    /// invoice-service produced it and the `invoices` exchange carried it.
    static func forgedPayment(
        order: String, invoice: String, of system: MercatoSystem, id: String = UUID().uuidString.lowercased()
    ) async throws
        -> OutboundMessage
    {
        let (_, body) = try await system.request(.invoice, "GET", "/invoices/\(invoice)")
        let fields = try #require(body as? [String: Any])
        let paid = InvoicePaid(
            invoiceID: UUID(uuidString: invoice)!, invoiceNumber: try #require(fields["number"] as? String),
            orderID: UUID(uuidString: order)!,
            customerID: UUID(uuidString: try #require(fields["customer_id"] as? String))!, paymentID: UUID(),
            amount: Money(try #require(fields["total"] as? String))!,
            method: "card", paidAt: Date())
        var message = try OrderFlowSystemTests.amqpMessage(
            CloudEvent(id: id, source: "/mercato/invoice-service", data: paid))
        message.properties.headers = [
            FailureHeader.producer: .string("invoice-service"),
            FailureHeader.originalExchange: .string(ExchangeName.invoices),
            FailureHeader.originalRoutingKey: .string(EventType.invoicePaid.name),
            FailureHeader.service: .string("order-service"),
            FailureHeader.queue: .string(QueueName.orderInvoicePayments),
            FailureHeader.error: .string("failed 5 times: database timed out"),
            FailureHeader.attemptsMade: .int(5),
        ]
        return message
    }

    /// `message` sent to `exchange` with `routingKey`.
    static func sent(_ message: OutboundMessage, to exchange: String, _ routingKey: String) -> OutboundMessage {
        OutboundMessage(exchange: exchange, routingKey: routingKey, properties: message.properties, body: message.body)
    }

    /// Whether `error` says no queue received the message.
    static func isUnroutable(_ error: any Error) -> Bool {
        guard let error = error as? BrokerError else { return false }
        return error.code == .unroutable || error.failures.contains { $0.code == .unroutable }
    }

    /// The order is still only invoiced, its invoice still issued, and no payment exists.
    static func expectUnpaid(order: String, invoice: String, in system: MercatoSystem) async throws {
        #expect(try await system.orderStatus(order) == "invoiced")
        #expect(try await system.invoiceStatus(invoice) == "issued")
        #expect(try await system.paymentStatuses(invoice).isEmpty)
        #expect(
            try await system.database(.invoice).query("SELECT count(*) FROM payments")[0].decode(Int.self, at: 0) == 0)
    }

    /// The attack as issued: every way customer-service's credentials had into a dead-letter
    /// queue is refused by the broker, and its own exchange reaches its own queues only.
    @Test func customerServiceCannotPutAForgedPaymentIntoAnyDeadLetterQueue() async throws {
        let system = try await MercatoSystem.start()
        let cli = CLI(system: system)
        let (order, invoice, _) = try await system.invoicedOrder(customer: OrderFlowSystemTests.seeds[0])
        let forged = try await Self.forgedPayment(order: order, invoice: invoice, of: system)
        let customerService = try BrokerPermissionSystemTests.connection(as: .customer, of: system)
        let payments = QueueName.orderInvoicePayments
        try await customerService.withRunning {
            // (a) The dead-letter exchange, with order-service's queue as the key and with
            // its own; (b) the default exchange, straight into order-service's dead-letter
            // and delay queues.
            let attempts = [
                Self.sent(forged, to: ExchangeName.deadLetter, payments),
                Self.sent(forged, to: ExchangeName.deadLetter, QueueName.customerOrderCreated),
                Self.sent(forged, to: "", QueueName.deadLetter(of: payments)),
                Self.sent(forged, to: "", RetryPolicy.delayQueue(of: payments, afterAttempt: 1)),
                Self.sent(forged, to: "", QueueName.deadLetter(of: QueueName.customerOrderCreated)),
            ]
            for attempt in attempts {
                await #expect("\(attempt.exchange) \(attempt.routingKey)") {
                    try await customerService.publish(attempt)
                } throws: {
                    BrokerPermissionSystemTests.isRefused($0, code: 403, "ACCESS_REFUSED")
                }
            }
            // Its own exchange for retries and dead letters is bound to its own queues only:
            // order-service's key routes nowhere.
            await #expect {
                try await customerService.publish(
                    Self.sent(
                        forged, to: ExchangeName.failures(of: "customer-service"), QueueName.deadLetter(of: payments)))
            } throws: {
                Self.isUnroutable($0)
            }
            await #expect {
                try await customerService.publish(
                    Self.sent(forged, to: ExchangeName.failures(of: "customer-service"), payments))
            } throws: {
                Self.isUnroutable($0)
            }
        }
        #expect(try await system.broker.inspect(queue: QueueName.deadLetter(of: payments)).messageCount == 0)
        #expect(
            try await system.broker.inspect(queue: QueueName.deadLetter(of: QueueName.customerOrderCreated))
                .messageCount == 0)
        // The operator's routine replay finds nothing of it.
        let replay = try await cli.run(["dlq", "replay", payments])
        #expect(replay.status == 0, "\(replay.output)")
        #expect(replay.output.contains("replayed 0 message(s)"), "\(replay.output)")
        try await Self.expectUnpaid(order: order, invoice: invoice, in: system)
        await system.shutdown()
    }

    /// The replay's own defence, for a forgery that got into a dead-letter queue anyway (a
    /// broker whose permissions predate the fix): it goes back only to the queue it came from,
    /// and keeps the producer it records only when the queue's consumer or the broker wrote
    /// the dead letter; anything else is refused and stays where it is.
    @Test func aReplayNeverBelievesADeadLetterAnotherServiceWrote() async throws {
        let system = try await MercatoSystem.start()
        let cli = CLI(system: system)
        let (order, invoice, _) = try await system.invoicedOrder(customer: OrderFlowSystemTests.seeds[0])
        // As before the fix, customer-service may also write to the dead-letter and the default
        // exchanges (and, to dead-letter what its own consumer refuses, to its own exchange).
        var legacy = try #require(BrokerPermission.mercato.first { $0.user == "customer-service" })
        legacy.write = #"^(customers|customer-service\.failures|mercato\.dead-letter|amq\.default)$"#
        try await Management().apply(
            legacy, password: MercatoSystem.password(of: legacy.user), virtualHost: system.name)

        let payments = QueueName.orderInvoicePayments
        // Ids short enough for `dlq list` to print whole.
        let ids = (0..<4).map { _ in UUID().uuidString.lowercased() }
        var forgeries = [
            Self.sent(
                try await Self.forgedPayment(order: order, invoice: invoice, of: system, id: ids[0]),
                to: ExchangeName.deadLetter, payments),
            Self.sent(
                try await Self.forgedPayment(order: order, invoice: invoice, of: system, id: ids[1]), to: "",
                QueueName.deadLetter(of: payments)),
            // Into its own dead-letter queue, whose replay it hopes goes to `invoices`.
            Self.sent(
                try await Self.forgedPayment(order: order, invoice: invoice, of: system, id: ids[2]),
                to: ExchangeName.deadLetter,
                QueueName.customerOrderCreated),
            Self.sent(
                try await Self.forgedPayment(order: order, invoice: invoice, of: system, id: ids[3]), to: "",
                QueueName.deadLetter(of: payments)),
        ]
        // The last one claims the broker dead-lettered it out of order-service's queue.
        forgeries[3].properties.headers["x-death"] = .array([
            .table([
                "queue": .string(payments), "reason": .string("rejected"), "count": 1,
                "exchange": .string(ExchangeName.invoices),
                "routing-keys": .array([.string(EventType.invoicePaid.name)]),
            ])
        ])
        let customerService = try BrokerPermissionSystemTests.connection(as: .customer, of: system)
        try await customerService.withRunning { try await customerService.publish(forgeries) }
        try await system.eventually("the forgeries are in the dead-letter queues") {
            let theirs = try await system.broker.inspect(queue: QueueName.deadLetter(of: payments)).messageCount
            let own = try await system.broker.inspect(queue: QueueName.deadLetter(of: QueueName.customerOrderCreated))
                .messageCount
            return theirs == 3 && own == 1
        }

        // The operator's routine replay of order-service's dead letters.
        let replay = try await cli.run(["dlq", "replay", payments])
        #expect(replay.status != 0, "\(replay.output)")
        for id in ids[0...1] {
            #expect(replay.output.contains("refused \(id)"), "\(replay.output)")
        }
        #expect(replay.output.contains("put there by customer-service"), "\(replay.output)")
        // The one claiming the broker's x-death went back to order-service's queue alone,
        // judged by the user the broker vouched for: order-service dead-letters it again.
        #expect(replay.output.contains("replayed 1 message(s)"), "\(replay.output)")
        var listing = ""
        do {
            try await system.eventually("order-service refuses the replayed forgery") {
                listing = try await cli.run(["dlq", "list", payments]).output
                return listing.contains(ids[3])
                    && listing.contains("forbidden_publisher: invoice.paid from customer-service")
            }
        } catch {
            Issue.record("\(error)\n\(replay.output)\n\(listing)\n\(system.tail(.order))")
        }
        #expect(try await system.broker.inspect(queue: QueueName.deadLetter(of: payments)).messageCount == 3)

        // Its own dead letter goes back to its own queue, never to `invoices`: customer-service
        // does not take invoice.paid and dead-letters it again.
        let own = try await cli.run(["dlq", "replay", QueueName.customerOrderCreated])
        #expect(own.status == 0, "\(own.output)")
        try await system.eventually("customer-service dead-letters it again") {
            let listing = try await cli.run(["dlq", "list", QueueName.customerOrderCreated]).output
            return listing.contains(ids[2]) && listing.contains("unexpected event type")
        }
        #expect(try await system.broker.inspect(queue: QueueName.deadLetter(of: payments)).messageCount == 3)
        try await Self.expectUnpaid(order: order, invoice: invoice, in: system)
        await system.shutdown()
    }
}
