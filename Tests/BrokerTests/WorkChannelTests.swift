import Foundation
import Logging
import Synchronization
import Testing

@testable import Broker

/// The two work channels against a recording connection: what each writes when a connection
/// opens, when events arrive, when it is lost and when it closes for good. The connection's
/// socket and the broker are left out; `RabbitMQBrokerTests` covers them for real.
@Suite(.timeLimit(.minutes(1)))
struct WorkChannelTests {
    /// Records every call a work channel makes on its connection.
    final class RecordingOperations: AMQPChannelOperations {
        var calls: [String] = []
        var published: [String?] = []

        func openChannel(_ channel: UInt16) throws { calls.append("open \(channel)") }
        func enableConfirms(on channel: UInt16) throws { calls.append("confirms \(channel)") }
        func setPrefetch(_ count: UInt16, on channel: UInt16) throws { calls.append("prefetch \(count)") }
        func consume(queue: String, consumerTag: String, on channel: UInt16) throws {
            calls.append("consume \(queue) \(consumerTag)")
        }
        func cancel(consumerTag: String, on channel: UInt16) throws { calls.append("cancel \(consumerTag)") }
        func publish(_ message: OutboundMessage, mandatory: Bool, on channel: UInt16) throws {
            published.append(message.properties.messageID)
        }
    }

    struct NoAcknowledger: DeliveryAcknowledger {
        func settle(_ settlement: Settlement, deliveryTag: UInt64, generation: UInt64) async throws {}
    }

    static func link(_ operations: RecordingOperations, generation: UInt64 = 0, drain: @escaping () -> Void = {})
        -> WorkLink
    {
        WorkLink(
            operations: operations, channel: 2, generation: generation, acknowledger: NoAcknowledger(),
            drainEvents: drain)
    }

    static func message(_ id: String) -> OutboundMessage {
        OutboundMessage(
            exchange: "orders", routingKey: "order.created", properties: MessageProperties(messageID: id), body: Data())
    }

    static func delivery(_ tag: UInt64) -> AMQPEvent {
        .delivery(
            channel: 2,
            InboundMessage(
                deliveryTag: tag, redelivered: false, exchange: "orders", routingKey: "order.created",
                properties: MessageProperties(messageID: "m\(tag)"), body: Data()))
    }

    // MARK: - Publisher

    @Test func aPublisherSendsWhatTheLostConnectionLeftUnconfirmedOnTheNextOne() async throws {
        let channel = PublisherChannel(logger: Logger(label: "test"))
        let first = RecordingOperations()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            do {
                let request = channel.enqueue(
                    [Self.message("a"), Self.message("b")], deadline: .now + .seconds(30), continuation: continuation)
                try channel.open(Self.link(first))
                try channel.send(request, Self.link(first))
                try channel.handle(.ack(channel: 2, deliveryTag: 1, multiple: false), Self.link(first))
                channel.connectionLost(generation: 1)
                let second = RecordingOperations()
                try channel.open(Self.link(second, generation: 1))
                #expect(second.calls == ["confirms 2"])
                #expect(second.published == ["b"])
                // Tags start again on the new channel.
                try channel.handle(.ack(channel: 2, deliveryTag: 1, multiple: false), Self.link(second))
            } catch {
                Issue.record(error)
            }
        }
        #expect(first.calls == ["confirms 2"])
        #expect(first.published == ["a", "b"])
    }

    @Test func aLongBatchReadsItsConfirmsWhileItWrites() async {
        let channel = PublisherChannel(logger: Logger(label: "test"))
        let operations = RecordingOperations()
        let drains = Mutex(0)
        let count = PublisherChannel.writesBetweenReads * 2 + 1
        await #expect(throws: BrokerError.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let request = channel.enqueue(
                    (0..<count).map { Self.message("\($0)") }, deadline: .now + .seconds(30),
                    continuation: continuation)
                do {
                    try channel.send(request, Self.link(operations) { drains.withLock { $0 += 1 } })
                } catch {
                    Issue.record(error)
                }
                channel.finish(BrokerError(.shutdown, "test over"))
            }
        }
        #expect(operations.published.count == count)
        #expect(drains.withLock { $0 } == 2)
    }

    /// The broker closes the channel while a long batch is written (its close is read with the
    /// confirms, mid-batch): the rest of the batch is not written on the new channel, where
    /// the broker's tags would no longer match the books; the request fails with the channel.
    @Test func aBatchStopsWhereTheBrokerClosedItsChannel() async {
        let channel = PublisherChannel(logger: Logger(label: "test"))
        let operations = RecordingOperations()
        let count = PublisherChannel.writesBetweenReads * 2
        let error = await #expect(throws: BrokerError.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let request = channel.enqueue(
                    (0..<count).map { Self.message("\($0)") }, deadline: .now + .seconds(30),
                    continuation: continuation)
                let link = Self.link(operations) {
                    try? channel.handle(
                        .channelClosed(channel: 2, replyCode: 406, replyText: "PRECONDITION_FAILED"),
                        Self.link(operations))
                }
                do {
                    try channel.send(request, link)
                } catch {
                    Issue.record(error)
                }
            }
        }
        #expect(error?.code == .publishFailed || error?.code == .channelClosed)
        #expect(operations.published.count == PublisherChannel.writesBetweenReads, "nothing after the close")
        #expect(operations.calls == ["open 2", "confirms 2"])
    }

    @Test func aChannelClosedByTheBrokerFailsWhatWasInFlightAndReopensWithConfirms() async throws {
        let channel = PublisherChannel(logger: Logger(label: "test"))
        let operations = RecordingOperations()
        let error = await #expect(throws: BrokerError.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                do {
                    let request = channel.enqueue(
                        [Self.message("a")], deadline: .now + .seconds(30), continuation: continuation)
                    try channel.send(request, Self.link(operations))
                    try channel.handle(
                        .channelClosed(channel: 2, replyCode: 406, replyText: "PRECONDITION_FAILED"),
                        Self.link(operations))
                } catch {
                    Issue.record(error)
                }
            }
        }
        #expect(error?.failures.map(\.code) == [.channelClosed])
        #expect(operations.calls == ["open 2", "confirms 2"])
        #expect(operations.published == ["a"])
    }

    @Test func closingForGoodFailsEveryWaitingPublish() async {
        let channel = PublisherChannel(logger: Logger(label: "test"))
        let error = await #expect(throws: BrokerError.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                _ = channel.enqueue([Self.message("a")], deadline: .now + .seconds(30), continuation: continuation)
                channel.finish(BrokerError(.shutdown, "closed"))
            }
        }
        #expect(error?.code == .shutdown)
    }

    // MARK: - Consumer

    @Test func aConsumerSetsItsPrefetchThenConsumesUnderATagNamingTheConnection() throws {
        let channel = ConsumerChannel(
            queue: "invoice-service.stock-reserved", prefetch: 50, buffer: DeliveryBuffer(),
            connectionName: "invoice-service")
        let operations = RecordingOperations()
        try channel.open(Self.link(operations))
        let tag = try #require(channel.consumerTag)
        #expect(tag.hasPrefix("invoice-service."))
        #expect(operations.calls == ["prefetch 50", "consume invoice-service.stock-reserved \(tag)"])
    }

    @Test func aTurnsDeliveriesReachTheBufferTogetherAtItsEnd() async throws {
        let buffer = DeliveryBuffer()
        let channel = ConsumerChannel(queue: "q", prefetch: 10, buffer: buffer, connectionName: "c")
        let link = Self.link(RecordingOperations(), generation: 3)
        for tag in 1...3 { try channel.handle(Self.delivery(UInt64(tag)), link) }
        #expect(buffer.count == 0)
        try channel.endTurn(link, now: .now)
        let deliveries = await buffer.next(max: 10)
        #expect(deliveries.map(\.deliveryTag) == [1, 2, 3])
        #expect(deliveries.allSatisfy { $0.generation == 3 && $0.queue == "q" })
    }

    @Test func aLostConnectionsDeliveriesAreDroppedForTheBrokerToRedeliver() throws {
        let buffer = DeliveryBuffer()
        let channel = ConsumerChannel(queue: "q", prefetch: 10, buffer: buffer, connectionName: "c")
        let operations = RecordingOperations()
        try channel.open(Self.link(operations))
        try channel.handle(Self.delivery(1), Self.link(operations))
        try channel.endTurn(Self.link(operations), now: .now)
        try channel.handle(Self.delivery(2), Self.link(operations))  // read, not yet handed over
        channel.willDisconnect(operations, channel: 2, graceful: false)
        channel.connectionLost(generation: 1)
        try channel.endTurn(nil, now: .now)
        #expect(buffer.count == 0)
        #expect(channel.consumerTag == nil)
        #expect(!operations.calls.contains { $0.hasPrefix("cancel") })
    }

    @Test func aGracefulCloseCancelsTheConsumerFirst() throws {
        let channel = ConsumerChannel(queue: "q", prefetch: 10, buffer: DeliveryBuffer(), connectionName: "c")
        let operations = RecordingOperations()
        try channel.open(Self.link(operations))
        let tag = try #require(channel.consumerTag)
        channel.willDisconnect(operations, channel: 2, graceful: true)
        #expect(operations.calls.last == "cancel \(tag)")
    }

    @Test func aConsumerCancelledOrClosedByTheBrokerDropsTheConnection() {
        let channel = ConsumerChannel(queue: "q", prefetch: 10, buffer: DeliveryBuffer(), connectionName: "c")
        let link = Self.link(RecordingOperations())
        #expect(throws: BrokerError.self) { try channel.handle(.consumerCancelled(channel: 2), link) }
        #expect(throws: BrokerError.self) {
            try channel.handle(.channelClosed(channel: 2, replyCode: 404, replyText: "NOT_FOUND"), link)
        }
    }
}
