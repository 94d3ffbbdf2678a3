import Broker
import Contracts
import Foundation
import Testing

/// Where `mercato dlq replay` sends a dead letter, and which producer it vouches for.
@Suite(.timeLimit(.minutes(1)))
struct DeadLetterReplayTests {
    let replay = DeadLetterReplay(queue: QueueName.orderInvoicePayments, operatorUser: "mercato")

    /// A dead letter in order-service's payments `.dlq` from `user`, claiming invoice-service
    /// produced it on `invoices`, and with `x-death` entries naming `deaths`.
    static func deadLetter(from user: String?, deaths: [String] = []) -> MessageProperties {
        var properties = MessageProperties(messageID: "m-1", type: EventType.invoicePaid.name, userID: user)
        properties.headers = [
            FailureHeader.producer: .string("invoice-service"),
            FailureHeader.originalExchange: .string(ExchangeName.invoices),
            FailureHeader.originalRoutingKey: .string(EventType.invoicePaid.name),
            FailureHeader.error: .string("failed 5 times"),
            FailureHeader.attempt: .int(5),
            FailureHeader.attemptsMade: .int(5),
        ]
        if !deaths.isEmpty {
            properties.headers["x-death"] = .array(
                deaths.map { .table(["queue": .string($0), "reason": .string("rejected"), "count": 1]) })
        }
        return properties
    }

    func replayed(_ properties: MessageProperties) throws(DeadLetterReplay.Refusal) -> OutboundMessage {
        try replay.message(properties: properties, body: Data("{}".utf8))
    }

    @Test func aDeadLetterItsConsumerWroteGoesBackToItsQueueWithTheRecordedProducer() throws {
        let message = try replayed(
            Self.deadLetter(
                from: "order-service",
                deaths: [RetryPolicy.delayQueue(of: QueueName.orderInvoicePayments, afterAttempt: 1)]))
        // To the queue, through the default exchange: never to the exchange its headers name.
        #expect(message.exchange == "")
        #expect(message.routingKey == QueueName.orderInvoicePayments)
        #expect(message.properties.headers[FailureHeader.producer]?.stringValue == "invoice-service")
        // Attempts count afresh; where it was first published stays, for the operator.
        for header in [FailureHeader.error, FailureHeader.attempt, FailureHeader.attemptsMade, "x-death"] {
            #expect(message.properties.headers[header] == nil, "\(header)")
        }
        #expect(message.properties.headers[FailureHeader.originalExchange]?.stringValue == ExchangeName.invoices)
        // The publishing connection stamps the operator's user.
        #expect(message.properties.userID == nil)
        #expect(
            try replayed(Self.deadLetter(from: "mercato")).properties.headers[FailureHeader.producer]?.stringValue
                == "invoice-service")
    }

    @Test func aDeadLetterTheBrokerMovedKeepsOnlyTheProducerTheBrokerVouchedFor() throws {
        // Rejected out of the queue (or over its delivery limit): the user that published it
        // is the producer, whatever it claims.
        let byInvoiceService = try replayed(
            Self.deadLetter(from: "invoice-service", deaths: [QueueName.orderInvoicePayments]))
        #expect(byInvoiceService.properties.headers[FailureHeader.producer]?.stringValue == "invoice-service")
        #expect(byInvoiceService.routingKey == QueueName.orderInvoicePayments)
        let byCustomerService = try replayed(
            Self.deadLetter(from: "customer-service", deaths: [QueueName.orderInvoicePayments]))
        #expect(byCustomerService.properties.headers[FailureHeader.producer]?.stringValue == "customer-service")
    }

    @Test(arguments: [
        (
            Self.deadLetter(from: "customer-service"),
            "put there by customer-service, not by order-service's consumer or the broker"
        ),
        (Self.deadLetter(from: nil), "put there by an unknown user"),
        (
            Self.deadLetter(from: "customer-service", deaths: [QueueName.customerOrderCreated]),
            "its x-death names customer-service.order-created"
        ),
        (Self.deadLetter(from: nil, deaths: [QueueName.orderInvoicePayments]), "carries no user_id"),
    ])
    func anyOtherDeadLetterIsRefused(properties: MessageProperties, reason: String) {
        #expect {
            _ = try replayed(properties)
        } throws: { error in
            let refusal = error as? DeadLetterReplay.Refusal
            return refusal?.messageID == "m-1" && refusal?.reason.contains(reason) == true
        }
    }

    @Test func aDeadLetterWhoseConsumerCouldNotTellItsProducerIsRefused() {
        var properties = Self.deadLetter(from: "order-service")
        properties.headers[FailureHeader.producer] = .string("")
        #expect(throws: DeadLetterReplay.Refusal.self) { try replayed(properties) }
    }

    @Test func theReplayOfADeadLetterQueueGoesToItsConsumerQueueOwnedByItsService() {
        #expect(replay.owner == "order-service")
        #expect(
            DeadLetterReplay(queue: QueueName.customerOrderCreated, operatorUser: "admin").owner == "customer-service")
    }
}
