public import Broker
import Foundation
import ServiceLifecycle
import Synchronization

/// A ``Broker`` in memory with RabbitMQ's semantics, for the services' unit tests: exchanges
/// route by topic pattern, direct key or fan-out; publishes are mandatory; consumers get at
/// most `prefetch` unacknowledged deliveries; nacked or rejected messages are requeued (and
/// flagged redelivered) or dead-lettered with an `x-death` header; messages outliving their
/// queue's `x-message-ttl` are dead-lettered as expired; a cancelled consumer's
/// unacknowledged messages go back to the queue.
///
/// Its ``run()`` only waits for a shutdown: it works whether or not it runs.
///
/// It is never a substitute for RabbitMQ in integration tests.
public actor InMemoryBroker: Broker {
    private struct StoredMessage {
        var message: OutboundMessage
        var redelivered: Bool
        var sequence: UInt64 = 0
    }

    private struct QueueState {
        var declaration: Topology.Queue
        var messages: [StoredMessage] = []
    }

    private final class Consumer: Sendable {
        let id: UInt64
        let queue: String
        let prefetch: Int
        let buffer = DeliveryBuffer()
        init(id: UInt64, queue: String, prefetch: Int) {
            self.id = id
            self.queue = queue
            self.prefetch = prefetch
        }
    }

    private struct ConsumerState {
        let consumer: Consumer
        var nextTag: UInt64 = 1
        var unacked: [(tag: UInt64, message: StoredMessage)] = []
    }

    private var exchanges: [String: Topology.Exchange] = [:]
    private var queues: [String: QueueState] = [:]
    private var bindings: [Topology.Binding] = []
    private var consumers: [UInt64: ConsumerState] = [:]
    private var nextConsumerID: UInt64 = 0
    private var nextSequence: UInt64 = 0
    /// Until ``shutdown()``; atomic so ``isReady`` answers without waiting for the actor.
    private nonisolated let ready = Atomic<Bool>(true)
    private var isShutDown: Bool { !ready.load(ordering: .relaxed) }
    private var shutdownWaiters: [CheckedContinuation<Void, Never>] = []

    /// The user this broker's "connection" is logged in as: every publish carries it as
    /// `user_id`, as the RabbitMQ broker's do.
    public nonisolated let user: String
    /// What times a queue's `x-message-ttl`.
    private nonisolated let clock: any Clock<Duration>

    /// Creates an empty broker (only the default exchange exists), publishing as `user`.
    /// Messages' time-to-live runs on `clock`: a test gives it a manual one, to look at a
    /// delay queue before its messages expire and to expire them when it says so.
    public init(user: String = "guest", clock: any Clock<Duration> = ContinuousClock()) {
        self.user = user
        self.clock = clock
    }

    public func declare(_ topology: Topology) async throws {
        try ensureRunning()
        for exchange in topology.exchanges {
            if let existing = exchanges[exchange.name], existing.kind != exchange.kind {
                throw BrokerError(
                    .channelClosed, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange '\(exchange.name)'",
                    replyCode: 406)
            }
            exchanges[exchange.name] = exchange
        }
        for queue in topology.queues {
            if let existing = queues[queue.name], existing.declaration.arguments != queue.arguments {
                throw BrokerError(
                    .channelClosed, "PRECONDITION_FAILED - inequivalent arguments for queue '\(queue.name)'",
                    replyCode: 406)
            }
            if queues[queue.name] == nil { queues[queue.name] = QueueState(declaration: queue) }
        }
        for binding in topology.bindings {
            guard exchanges[binding.exchange] != nil else {
                throw BrokerError(.channelClosed, "NOT_FOUND - no exchange '\(binding.exchange)'", replyCode: 404)
            }
            guard queues[binding.queue] != nil else {
                throw BrokerError(.channelClosed, "NOT_FOUND - no queue '\(binding.queue)'", replyCode: 404)
            }
            if !bindings.contains(binding) { bindings.append(binding) }
        }
    }

    public func publish(_ messages: [OutboundMessage]) async throws {
        try ensureRunning()
        var failures: [BrokerError.Failure] = []
        for var message in messages {
            message.properties.userID = user
            if let failure = route(message) { failures.append(failure) }
        }
        if !failures.isEmpty {
            throw BrokerError(
                .publishFailed, "\(failures.count) of \(messages.count) messages were not accepted",
                messageID: failures[0].messageID, failures: failures)
        }
    }

    public func consume(queue: String, prefetch: Int) async throws -> BrokerConsumer {
        try ensureRunning()
        guard queues[queue] != nil else {
            throw BrokerError(.channelClosed, "NOT_FOUND - no queue '\(queue)'", replyCode: 404)
        }
        nextConsumerID += 1
        let consumer = Consumer(id: nextConsumerID, queue: queue, prefetch: max(1, prefetch))
        consumers[consumer.id] = ConsumerState(consumer: consumer)
        dispatch(queue)
        let id = consumer.id
        return BrokerConsumer(queue: queue, buffer: consumer.buffer) { [weak self] in
            await self?.cancelConsumer(id)
        }
    }

    public nonisolated var isReady: Bool { ready.load(ordering: .relaxed) }

    public func inspect(queue: String) async throws -> QueueStatus {
        try ensureRunning()
        guard let state = queues[queue] else {
            throw BrokerError(.channelClosed, "NOT_FOUND - no queue '\(queue)'", replyCode: 404)
        }
        return QueueStatus(
            messageCount: state.messages.count,
            consumerCount: consumers.values.filter { $0.consumer.queue == queue }.count)
    }

    /// Waits until the broker is shut down (by ``shutdown()``, a graceful shutdown or
    /// cancellation).
    public nonisolated func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await self.waitForShutdown()
            } onGracefulShutdown: {
                Task { await self.shutdown() }
            }
        } onCancel: {
            Task { await self.shutdown() }
        }
    }

    private func waitForShutdown() async {
        guard !isShutDown else { return }
        await withCheckedContinuation { shutdownWaiters.append($0) }
    }

    public func shutdown() async {
        for id in Array(consumers.keys) { cancelConsumer(id) }
        ready.store(false, ordering: .relaxed)
        for waiter in shutdownWaiters { waiter.resume() }
        shutdownWaiters.removeAll()
    }

    /// Messages waiting in `queue`, not counting those delivered and unacknowledged.
    public func messageCount(queue: String) -> Int {
        queues[queue]?.messages.count ?? 0
    }

    /// Messages of `queue` delivered to a consumer and not yet settled.
    public func unacknowledgedCount(queue: String) -> Int {
        consumers.values.filter { $0.consumer.queue == queue }.reduce(0) { $0 + $1.unacked.count }
    }

    /// The bodies waiting in `queue`, oldest first (for assertions on dead-letter queues).
    public func messages(in queue: String) -> [OutboundMessage] {
        queues[queue]?.messages.map(\.message) ?? []
    }

    // MARK: - Routing

    private func ensureRunning() throws {
        if isShutDown { throw BrokerError(.shutdown, "the broker was shut down") }
    }

    /// Routes one message; returns why it was not accepted, if it was not.
    private func route(_ message: OutboundMessage) -> BrokerError.Failure? {
        let targets: [String]
        if message.exchange.isEmpty {
            targets = queues[message.routingKey] == nil ? [] : [message.routingKey]
        } else {
            guard let exchange = exchanges[message.exchange] else {
                return .init(
                    messageID: message.displayID, code: .channelClosed,
                    reason: "NOT_FOUND - no exchange '\(message.exchange)'")
            }
            var matched: [String] = []
            for binding in bindings where binding.exchange == exchange.name && !matched.contains(binding.queue) {
                let routes: Bool
                switch exchange.kind {
                case .topic: routes = TopicPattern(binding.routingKey).matches(message.routingKey)
                case .direct: routes = binding.routingKey == message.routingKey
                case .fanout: routes = true
                case .headers: routes = false
                }
                if routes { matched.append(binding.queue) }
            }
            targets = matched
        }
        guard !targets.isEmpty else {
            return .init(
                messageID: message.displayID, code: .unroutable,
                reason: "NO_ROUTE (312): no queue is bound to \(message.exchange) for \(message.routingKey)")
        }
        for queue in targets {
            nextSequence += 1
            let sequence = nextSequence
            queues[queue]?.messages.append(StoredMessage(message: message, redelivered: false, sequence: sequence))
            if let ttl = queues[queue]?.declaration.arguments.messageTTL {
                Task { [weak self, clock] in
                    try? await clock.sleep(for: .milliseconds(ttl))
                    await self?.expire(sequence, in: queue)
                }
            }
            dispatch(queue)
        }
        return nil
    }

    /// Hands waiting messages of `queue` to its consumers, round-robin, within prefetch.
    private func dispatch(_ queue: String) {
        let ids = consumers.values.filter { $0.consumer.queue == queue }.map(\.consumer.id).sorted()
        guard !ids.isEmpty else { return }
        var progress = true
        while progress, let first = queues[queue]?.messages.first {
            progress = false
            for id in ids {
                guard var state = consumers[id], state.unacked.count < state.consumer.prefetch else { continue }
                queues[queue]?.messages.removeFirst()
                let tag = state.nextTag
                state.nextTag += 1
                state.unacked.append((tag, first))
                consumers[id] = state
                state.consumer.buffer.push(
                    Delivery(
                        queue: queue, exchange: first.message.exchange, routingKey: first.message.routingKey,
                        redelivered: first.redelivered, deliveryTag: tag, properties: first.message.properties,
                        body: first.message.body, acknowledger: Acknowledger(broker: self, consumerID: id),
                        generation: id))
                progress = true
                break
            }
        }
    }

    /// Dead-letters a message that waited in `queue` longer than its TTL (if still waiting).
    private func expire(_ sequence: UInt64, in queue: String) {
        guard let index = queues[queue]?.messages.firstIndex(where: { $0.sequence == sequence }),
            let expired = queues[queue]?.messages.remove(at: index)
        else { return }
        deadLetter(expired.message, from: queue, reason: "expired")
    }

    private func cancelConsumer(_ id: UInt64) {
        guard let state = consumers.removeValue(forKey: id) else { return }
        state.consumer.buffer.finish()
        let returned = state.unacked.map { StoredMessage(message: $0.message.message, redelivered: true) }
        queues[state.consumer.queue]?.messages.insert(contentsOf: returned, at: 0)
        dispatch(state.consumer.queue)
    }

    fileprivate func settle(_ settlement: Settlement, deliveryTag: UInt64, consumerID: UInt64) throws {
        guard var state = consumers[consumerID] else {
            throw BrokerError(.staleDelivery, "the delivery's consumer is gone; the broker will redeliver it")
        }
        let multiple: Bool
        let requeue: Bool?
        switch settlement {
        case .ack(let all): (multiple, requeue) = (all, nil)
        case .nack(let all, let again): (multiple, requeue) = (all, again)
        case .reject(let again): (multiple, requeue) = (false, again)
        }
        let settled = state.unacked.filter { multiple ? $0.tag <= deliveryTag : $0.tag == deliveryTag }
        guard !settled.isEmpty else {
            throw BrokerError(
                .protocolError, "PRECONDITION_FAILED - unknown delivery tag \(deliveryTag)", replyCode: 406)
        }
        state.unacked.removeAll { multiple ? $0.tag <= deliveryTag : $0.tag == deliveryTag }
        consumers[consumerID] = state
        let queue = state.consumer.queue
        switch requeue {
        case nil:
            break
        case true?:
            let returned = settled.map { StoredMessage(message: $0.message.message, redelivered: true) }
            queues[queue]?.messages.insert(contentsOf: returned, at: 0)
        case false?:
            for entry in settled { deadLetter(entry.message.message, from: queue, reason: "rejected") }
        }
        dispatch(queue)
    }

    /// Moves a rejected message to its queue's dead-letter exchange, as RabbitMQ does, with
    /// an `x-death` entry saying where it came from and why.
    private func deadLetter(_ message: OutboundMessage, from queue: String, reason: String) {
        guard let arguments = queues[queue]?.declaration.arguments, let exchange = arguments.deadLetterExchange else {
            return
        }
        var dead = message
        dead.exchange = exchange
        dead.routingKey = arguments.deadLetterRoutingKey ?? message.routingKey
        let death: HeaderValue = .table([
            "queue": .string(queue), "reason": .string(reason), "count": 1,
            "exchange": .string(message.exchange), "routing-keys": .array([.string(message.routingKey)]),
        ])
        var deaths: [HeaderValue] = []
        if case .array(let previous)? = message.properties.headers["x-death"] { deaths = previous }
        dead.properties.headers["x-death"] = .array([death] + deaths)
        _ = route(dead)
    }

    private struct Acknowledger: DeliveryAcknowledger {
        let broker: InMemoryBroker
        let consumerID: UInt64

        func settle(_ settlement: Settlement, deliveryTag: UInt64, generation: UInt64) async throws {
            try await broker.settle(settlement, deliveryTag: deliveryTag, consumerID: consumerID)
        }
    }
}
