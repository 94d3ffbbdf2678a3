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
    struct StoredMessage {
        var message: OutboundMessage
        var redelivered: Bool
        var sequence: UInt64 = 0
    }

    struct QueueState {
        var declaration: Topology.Queue
        var messages: [StoredMessage] = []
    }

    final class Consumer: Sendable {
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

    struct ConsumerState {
        let consumer: Consumer
        var nextTag: UInt64 = 1
        var unacked: [(tag: UInt64, message: StoredMessage)] = []
    }

    var exchanges: [String: Topology.Exchange] = [:]
    var queues: [String: QueueState] = [:]
    var bindings: [Topology.Binding] = []
    var consumers: [UInt64: ConsumerState] = [:]
    var nextConsumerID: UInt64 = 0
    var nextSequence: UInt64 = 0
    /// Until ``shutdown()``; atomic so ``isReady`` answers without waiting for the actor.
    nonisolated let ready = Atomic<Bool>(true)
    var isShutDown: Bool { !ready.load(ordering: .relaxed) }
    var shutdownWaiters: [CheckedContinuation<Void, Never>] = []

    /// The user this broker's "connection" is logged in as: every publish carries it as
    /// `user_id`, as the RabbitMQ broker's do.
    public nonisolated let user: String
    /// What times a queue's `x-message-ttl`.
    nonisolated let clock: any Clock<Duration>

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

    func waitForShutdown() async {
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
}
