import BrokerTesting
import ContractTesting
import Contracts
import Foundation
import Locking
import Logging
import MercatoTesting
import Testing

@testable import Broker
@testable import ServiceKit

/// Records what it applied; refuses what it is told to.
final class RecordingHandler: EventHandler {
    let applied = Locked<[String]>([])
    let calls = Locked(0)
    let poison: Set<String>
    let failing: Set<String>

    init(poison: Set<String> = [], failing: Set<String> = []) {
        self.poison = poison
        self.failing = failing
    }

    var accepts: [AcceptedEvent] { [AcceptedEvent(OrderCreated.self)] }

    func apply(_ events: [IncomingEvent]) async throws {
        calls.withLock { $0 += 1 }
        if let bad = events.first(where: { poison.contains($0.id) }) { throw PoisonMessage("poisoned \(bad.id)") }
        if events.contains(where: { failing.contains($0.id) }) { throw Failure() }
        _ = try events.map { try $0.decode(OrderCreated.self) }
        applied.withLock { $0 += events.map(\.id) }
    }

    struct Failure: Error {}
}

@Suite(.timeLimit(.minutes(1)))
struct EventConsumerTests {
    /// Times the delay queues: a message waits in one until the test moves the clock.
    let clock = ManualClock()
    let broker: InMemoryBroker
    let queue = QueueName.catalogOrderEvents

    init() {
        broker = InMemoryBroker(user: "order-service", clock: clock)
    }

    func orderCreated(id: String = UUID().uuidString) throws -> OutboundMessage {
        let event = CloudEvent(
            id: id, source: "/tests",
            data: OrderCreated(orderID: UUID(), customerID: UUID(), items: [], total: .zero, createdAt: Date()))
        return OutboundMessage(
            exchange: ExchangeName.orders, routingKey: "order.created",
            properties: MessageProperties(
                contentType: CloudEvent<OrderCreated>.contentType, messageID: id, type: "order.created"),
            body: try EventCoding.makeEncoder().encode(event))
    }

    func consumer(_ handler: any EventHandler, maxAttempts: Int = 3) -> EventConsumer {
        var configuration = EventConsumer.Configuration()
        configuration.maxAttempts = maxAttempts
        configuration.initialRetryDelay = .milliseconds(1)
        return EventConsumer(
            queue: queue, handler: handler, broker: broker, readiness: Readiness(), serviceName: "tests",
            configuration: configuration,
            logger: Logger(label: "tests"))
    }

    /// Consumes everything waiting in the queue as one batch.
    func process(_ consumer: EventConsumer, expecting count: Int) async throws {
        let deliveries = try await broker.consume(queue: queue, prefetch: 100)
        let batch = try await nextDeliveries(deliveries, count: count)
        try await consumer.process(batch)
        await deliveries.cancel()
    }

    @Test func appliesABatchAndAcknowledgesIt() async throws {
        try await broker.declare(.mercato())
        let messages = try (0..<5).map { _ in try orderCreated() }
        try await broker.publish(messages)
        let handler = RecordingHandler()
        try await process(consumer(handler), expecting: 5)
        #expect(handler.applied.withLock { $0 } == messages.map { $0.properties.messageID! })
        #expect(handler.calls.withLock { $0 } == 1)
        #expect(await broker.messageCount(queue: queue) == 0)
        // Acknowledged: nothing waits, nothing is held.
        #expect(try await broker.inspect(queue: queue).messageCount == 0)
        #expect(await broker.unacknowledgedCount(queue: queue) == 0)
    }

    @Test(arguments: [
        ("not json", "application/cloudevents+json", "id-1", "not a CloudEvents envelope"),
        (
            #"{"specversion":"1.0","id":"id-2","source":"/x","type":"order.created","time":"2026-01-01T00:00:00Z","data":{}}"#,
            "text/plain", "id-2",
            "content type"
        ),
        (
            #"{"specversion":"1.0","id":"id-3","source":"/x","type":"order.created","time":"2026-01-01T00:00:00Z","data":{}}"#,
            "application/cloudevents+json",
            "", "message_id is missing"
        ),
        (
            #"{"specversion":"1.0","id":"id-4","source":"/x","type":"order.deleted","time":"2026-01-01T00:00:00Z","data":{}}"#,
            "application/cloudevents+json",
            "id-4", "unexpected event type"
        ),
        (
            #"{"specversion":"0.3","id":"id-5","source":"/x","type":"order.created","time":"2026-01-01T00:00:00Z","data":{}}"#,
            "application/cloudevents+json",
            "id-5", "specversion"
        ),
        (
            #"{"specversion":"1.0","id":"id-6","source":"/x","type":"order.created","time":"2026-01-01T00:00:00Z","data":{}}"#,
            "application/cloudevents+json",
            "id-6", "payload does not decode"
        ),
        (
            #"{"specversion":"1.0","id":"id-7","source":"/x","type":"order.created","time":"2026-01-01T00:00:00Z","dataversion":"2","data":{}}"#,
            "application/cloudevents+json", "id-7", "unsupported data version 2"
        ),
        (
            #"{"specversion":"1.0","id":"other","source":"/x","type":"order.created","time":"2026-01-01T00:00:00Z","data":{}}"#,
            "application/cloudevents+json",
            "id-8", "differs from the event id"
        ),
    ])
    func malformedMessagesAreDeadLetteredWithTheReason(
        body: String, contentType: String, messageID: String, reason: String
    ) async throws {
        try await broker.declare(.mercato())
        let good = try orderCreated()
        let bad = OutboundMessage(
            exchange: ExchangeName.orders, routingKey: "order.created",
            properties: MessageProperties(contentType: contentType, messageID: messageID.isEmpty ? nil : messageID),
            body: Data(body.utf8))
        try await broker.publish([bad, good])
        let handler = RecordingHandler()
        try await process(consumer(handler), expecting: 2)
        #expect(handler.applied.withLock { $0 } == [good.properties.messageID!])
        let dead = await broker.messages(in: QueueName.deadLetter(of: queue))
        #expect(dead.count == 1)
        #expect(dead.first?.body == bad.body)
        let error = dead.first?.properties.headers["x-mercato-error"]?.stringValue ?? ""
        #expect(error.contains(reason), "\(error)")
        #expect(dead.first?.properties.headers["x-mercato-service"]?.stringValue == "tests")
        #expect(dead.first?.properties.headers["x-original-routing-key"]?.stringValue == "order.created")
        #expect(await broker.messageCount(queue: queue) == 0)
    }

    @Test func aPoisonEventDoesNotHoldBackTheOthers() async throws {
        try await broker.declare(.mercato())
        let messages = try ["a", "b", "c", "d"].map { try orderCreated(id: $0) }
        try await broker.publish(messages)
        let handler = RecordingHandler(poison: ["b"])
        try await process(consumer(handler), expecting: 4)
        #expect(handler.applied.withLock { $0 } == ["a", "c", "d"])
        let dead = await broker.messages(in: QueueName.deadLetter(of: queue))
        #expect(dead.map(\.properties.messageID) == ["b"])
        #expect(dead.first?.properties.headers["x-mercato-error"]?.stringValue == "poisoned b")
    }

    @Test func aFailingEventWaitsInADelayQueueThenIsDeadLettered() async throws {
        try await broker.declare(.mercato())
        try await broker.publish([try orderCreated(id: "ok"), try orderCreated(id: "broken")])
        let handler = RecordingHandler(failing: ["broken"])
        let consumer = consumer(handler, maxAttempts: 2)
        try await process(consumer, expecting: 2)
        #expect(handler.applied.withLock { $0 } == ["ok"])
        // Attempt 1 failed: the event waits in the first delay queue, counted.
        let waiting = await broker.messages(
            in: QueueName.retry(of: queue, delayMilliseconds: RetryPolicy.delaysMilliseconds[0]))
        #expect(waiting.map(\.properties.messageID) == ["broken"])
        #expect(waiting.first?.properties.headers[FailureHeader.attempt]?.intValue == 2)
        #expect(waiting.first?.properties.headers["x-original-exchange"]?.stringValue == ExchangeName.orders)
        #expect(await broker.messageCount(queue: QueueName.deadLetter(of: queue)) == 0)

        // After the delay it is back, fails its last attempt, and is dead-lettered. Its
        // expiry is the only sleep on the clock: once it sleeps, the delay can pass.
        try await clock.waitForSleepers(1, timeout: .seconds(60))
        #expect(await broker.messageCount(queue: queue) == 0, "back before its delay")
        clock.advance(by: .milliseconds(RetryPolicy.delaysMilliseconds[0]))
        try await waitUntil("the delay queue to return the event") { await broker.messageCount(queue: queue) == 1 }
        try await process(consumer, expecting: 1)
        let dead = await broker.messages(in: QueueName.deadLetter(of: queue))
        #expect(dead.map(\.properties.messageID) == ["broken"])
        #expect(dead.first?.properties.headers[FailureHeader.attemptsMade]?.intValue == 2)
        #expect(dead.first?.properties.headers["x-mercato-error"]?.stringValue?.hasPrefix("failed 2 times") == true)
        // Where it came from, for a replay: the original exchange, not the delay queue's.
        #expect(dead.first?.properties.headers["x-original-exchange"]?.stringValue == ExchangeName.orders)
        #expect(dead.first?.properties.headers["x-original-routing-key"]?.stringValue == "order.created")
    }
}

/// A payload another service moved to version 2, on a queue of its own.
struct ShipmentBooked: EventPayload {
    static let eventType = EventType(name: "shipment.booked", exchange: "shipments")
    static let dataVersion = "2"
    var shipmentID: String
}

/// Applies `shipment.booked`, version 2 only.
final class ShipmentHandler: EventHandler {
    let applied = Locked<[String]>([])
    var accepts: [AcceptedEvent] { [AcceptedEvent(ShipmentBooked.self)] }
    func apply(_ events: [IncomingEvent]) async throws {
        let shipments = try events.map { try $0.decode(ShipmentBooked.self).data.shipmentID }
        applied.withLock { $0 += shipments }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct EventVersionTests {
    /// Which versions a consumer accepts is the handler's business: ServiceKit must not
    /// judge every payload by one domain event's version.
    @Test func aHandlerOfAVersion2PayloadGetsIt() async throws {
        let broker = InMemoryBroker(user: "shipment-service")
        let queue = "shipping-service.shipment-booked"
        try await broker.declare(
            Topology.consumerQueue(queue, exchange: "shipments", routingKeys: ["shipment.booked"], queueType: .classic))
        let event = CloudEvent(source: "/tests", data: ShipmentBooked(shipmentID: "s-1"))
        try await broker.publish(
            OutboundMessage(
                exchange: "shipments", routingKey: "shipment.booked",
                properties: MessageProperties(
                    contentType: CloudEvent<ShipmentBooked>.contentType, messageID: event.id, type: event.type),
                body: try EventCoding.makeEncoder().encode(event)))
        let handler = ShipmentHandler()
        let consumer = EventConsumer(
            queue: queue, handler: handler, broker: broker, readiness: Readiness(), serviceName: "tests",
            logger: Logger(label: "tests"))
        let deliveries = try await broker.consume(queue: queue, prefetch: 10)
        try await consumer.process(try await nextDeliveries(deliveries, count: 1))
        #expect(handler.applied.withLock { $0 } == ["s-1"])
        #expect(await broker.messages(in: QueueName.deadLetter(of: queue)).isEmpty)
    }
}

/// Events are accepted only from the broker users allowed to produce them.
@Suite(.timeLimit(.minutes(1)))
struct ProducerPolicyTests {
    let policy = ProducerPolicy(
        producers: ["invoice.created": ["billing"]], republishers: ["order-service", "mercato"])

    @Test func theProducerIsTheVerifiedUserUnlessARepublisherRecordedIt() {
        func producer(_ user: String?, recorded: String? = nil) -> String? {
            policy.producer(
                of: MessageProperties(
                    userID: user, headers: recorded.map { [FailureHeader.producer: .string($0)] } ?? [:]))
        }
        #expect(producer("invoice-service") == "invoice-service")
        #expect(producer(nil) == nil)
        // A producer's own claim is not believed; a republisher's (retry, replay) is.
        #expect(producer("customer-service", recorded: "invoice-service") == "customer-service")
        #expect(producer("order-service", recorded: "invoice-service") == "invoice-service")
        #expect(producer("mercato", recorded: "invoice-service") == "invoice-service")
        #expect(producer("mercato") == nil)
        #expect(policy.allowed("order.created") == ["order-service"])
        #expect(policy.allowed("invoice.created") == ["billing"])
    }

    @Test func aForgedEventIsDeadLetteredAsForbiddenPublisher() async throws {
        // customer-service's credentials publish an order.created: the broker stamps its user.
        let broker = InMemoryBroker(user: "customer-service")
        try await broker.declare(.mercato())
        let id = UUID().uuidString
        let event = CloudEvent(
            id: id, source: "/mercato/order-service",
            data: OrderCreated(orderID: UUID(), customerID: UUID(), items: [], total: .zero, createdAt: Date()))
        var properties = MessageProperties(
            contentType: CloudEvent<OrderCreated>.contentType, messageID: id, type: "order.created")
        properties.headers[FailureHeader.producer] = .string("order-service")
        try await broker.publish(
            OutboundMessage(
                exchange: ExchangeName.orders, routingKey: "order.created", properties: properties,
                body: try EventCoding.makeEncoder().encode(event)))
        let handler = RecordingHandler()
        var configuration = EventConsumer.Configuration()
        configuration.producers = ProducerPolicy(republishers: ["invoice-service"])
        let readiness = Readiness()
        let consumer = EventConsumer(
            queue: QueueName.catalogOrderEvents, handler: handler, broker: broker, readiness: readiness,
            serviceName: "invoice-service",
            configuration: configuration, logger: Logger(label: "tests"))
        readiness.markUp(Readiness.database)
        readiness.markUp(Readiness.broker)
        let running = Task { try await consumer.run() }
        defer { running.cancel() }
        try await waitUntil("the forged event to be dead-lettered") {
            await broker.messageCount(queue: QueueName.deadLetter(of: QueueName.catalogOrderEvents)) == 1
        }
        #expect(handler.applied.withLock { $0 }.isEmpty)
        let dead = await broker.messages(in: QueueName.deadLetter(of: QueueName.catalogOrderEvents))
        let reason = dead.first?.properties.headers[FailureHeader.error]?.stringValue ?? ""
        #expect(reason.hasPrefix("forbidden_publisher: order.created from customer-service"), "\(reason)")
        #expect(dead.first?.properties.headers[FailureHeader.producer]?.stringValue == "customer-service")
    }
}
