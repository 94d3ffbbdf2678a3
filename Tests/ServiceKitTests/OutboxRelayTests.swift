import Broker
import BrokerTesting
import ContractTesting
import Contracts
import Foundation
import Locking
import Logging
import MercatoTesting
import ServiceKit
import ServiceTesting
import Synchronization
import Testing

/// A clock for ``MemoryOutboxStore`` that stands still until a test moves it forward: a
/// refused message's backoff never passes by itself, however long a slow run stalls.
final class MovableTime: Sendable {
    private let time = Locked(Date())
    func now() -> Date { time.withLock { $0 } }
    func advance(by seconds: TimeInterval) { time.withLock { $0 += seconds } }
}

@Suite(.timeLimit(.minutes(1)))
struct OutboxStoreTests {
    /// The outbox contract, against the in-memory store (PostgreSQL's runs in
    /// ServiceIntegrationTests).
    @Test(arguments: OutboxStoreContract.checks)
    func memoryStore(_ check: ContractCheck<OutboxStoreSubject>) async throws {
        let time = MovableTime()
        let store = MemoryOutboxStore(now: { time.now() })
        try await check.run(
            OutboxStoreSubject(store: store, append: { store.append($0) }, letBackoffPass: { time.advance(by: 301) }))
    }
}

/// The real relay, over the in-memory store and broker.
@Suite(.timeLimit(.minutes(1)))
struct OutboxRelayTests {
    static func relay(store: any OutboxStore, broker: any Broker, workers: Int = 1) -> OutboxRelay {
        let readiness = Readiness()
        readiness.markUp(Readiness.database)
        var configuration = OutboxRelay.Configuration()
        configuration.workers = workers
        configuration.retryDelay = .milliseconds(10)
        configuration.pollInterval = .milliseconds(20)
        return OutboxRelay(
            store: store, broker: broker, readiness: readiness, configuration: configuration,
            logger: Logger(label: "tests"))
    }

    @Test func publishesWhatIsAppendedAndMarksItSent() async throws {
        let broker = InMemoryBroker()
        try await broker.declare(.mercato())
        let store = MemoryOutboxStore()
        let messages = try (0..<3).map { _ in try OutboxStoreContract.message() }
        try await withRunning([Self.relay(store: store, broker: broker)]) {
            store.append(messages)
            try await waitUntil("the relay to publish the three messages") { store.published.count == 3 }
        }
        #expect(store.pending.isEmpty)
        #expect(store.published.map(\.id) == messages.map(\.id))
        #expect(await broker.messageCount(queue: QueueName.catalogOrderEvents) == 3)
        #expect(await broker.messageCount(queue: QueueName.customerOrderCreated) == 3)
        let published = await broker.messages(in: QueueName.catalogOrderEvents)
        #expect(published.first?.properties.messageID == messages[0].id)
        #expect(published.first?.properties.type == "order.created")
        #expect(published.first?.properties.contentType == "application/cloudevents+json")
        #expect(published.first?.properties.appID == "tests")
        #expect(published.first?.properties.persistent == true)
        #expect(published.first?.properties.headers["traceparent"]?.stringValue == messages[0].traceparent)
    }

    /// No queue is bound: every publish is unroutable, so the relay leaves the message in the
    /// outbox to back off, and goes on with the rest.
    @Test func anUnroutableMessageStaysInTheOutboxAndBacksOff() async throws {
        let broker = InMemoryBroker()
        try await broker.declare(Topology(exchanges: [.init(name: ExchangeName.orders, kind: .topic)]))
        let time = MovableTime()
        let store = MemoryOutboxStore(now: { time.now() })
        let refusedOnce = OneShot()
        let counting = CountingBroker(broker, onRefused: { refusedOnce.fire() })
        try await withRunning([Self.relay(store: store, broker: counting)]) {
            store.append([try OutboxStoreContract.message()])
            try await refusedOnce.wait("the broker to refuse the message")
            // Refused: due again only after its backoff, which this clock has not reached.
            #expect(try await store.backlog().count == 1)
            try await broker.declare(.mercato())
            time.advance(by: 301)
            try await waitUntil("the message to go once routable and due") { store.published.count == 1 }
        }
        #expect(counting.refusals.load(ordering: .relaxed) == 1)
    }
}

extension OutboxRelayTests {
    /// The window, with two workers: while one batch waits for its confirms, what was
    /// committed meanwhile is published by the other pass, not held behind it.
    @Test func aBatchWaitingForItsConfirmsDoesNotHoldBackTheNext() async throws {
        let broker = InMemoryBroker()
        try await broker.declare(.mercato())
        let store = MemoryOutboxStore()
        let firstPublishing = OneShot()
        let releaseFirst = OneShot()
        let calls = Atomic<Int>(0)
        let holding = HoldingBroker(broker) {
            guard calls.add(1, ordering: .relaxed).newValue == 1 else { return }
            firstPublishing.fire()
            try? await releaseFirst.wait("the test to release the first batch")
        }
        let first = try OutboxStoreContract.message()
        let second = try OutboxStoreContract.message()
        try await withRunning([Self.relay(store: store, broker: holding, workers: 2)]) {
            store.append([first])
            try await firstPublishing.wait("the first batch to be on its way")
            store.append([second])
            try await waitUntil("the second message to be published while the first waits") {
                store.published.map(\.id) == [second.id]
            }
            releaseFirst.fire()
            try await waitUntil("both to be published") { store.published.count == 2 }
        }
        #expect(Set(store.published.map(\.id)) == [first.id, second.id])
    }
}

/// Passes calls to a broker, running `beforePublish` first (which may hold a publish back).
final class HoldingBroker: Broker {
    let base: InMemoryBroker
    let beforePublish: @Sendable () async -> Void

    init(_ base: InMemoryBroker, beforePublish: @escaping @Sendable () async -> Void) {
        self.base = base
        self.beforePublish = beforePublish
    }

    func declare(_ topology: Topology) async throws { try await base.declare(topology) }
    func publish(_ messages: [OutboundMessage]) async throws {
        await beforePublish()
        try await base.publish(messages)
    }
    func consume(queue: String, prefetch: Int) async throws -> BrokerConsumer {
        try await base.consume(queue: queue, prefetch: prefetch)
    }
    func inspect(queue: String) async throws -> QueueStatus { try await base.inspect(queue: queue) }
    var isReady: Bool { base.isReady }
    func shutdown() async { await base.shutdown() }
    func run() async throws { try await base.run() }
}

/// Passes calls to a broker, counting refused publishes.
final class CountingBroker: Broker {
    let base: InMemoryBroker
    let refusals = Atomic<Int>(0)
    let onRefused: @Sendable () -> Void

    init(_ base: InMemoryBroker, onRefused: @escaping @Sendable () -> Void) {
        self.base = base
        self.onRefused = onRefused
    }

    func declare(_ topology: Topology) async throws { try await base.declare(topology) }
    func publish(_ messages: [OutboundMessage]) async throws {
        do {
            try await base.publish(messages)
        } catch {
            refusals.add(1, ordering: .relaxed)
            onRefused()
            throw error
        }
    }
    func consume(queue: String, prefetch: Int) async throws -> BrokerConsumer {
        try await base.consume(queue: queue, prefetch: prefetch)
    }
    func inspect(queue: String) async throws -> QueueStatus { try await base.inspect(queue: queue) }
    var isReady: Bool { base.isReady }
    func shutdown() async { await base.shutdown() }
    func run() async throws { try await base.run() }
}
