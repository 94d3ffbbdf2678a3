import Foundation
import IOThread
import Logging
import Synchronization

/// One AMQP connection that keeps itself alive: it connects, declares the broker's topology,
/// sets up its channel for its role (publishing with confirms, or consuming one queue), and
/// after any failure reconnects with exponential backoff and does all of that again.
///
/// Nothing connects until ``run()``, which ``RabbitMQBroker/run()`` calls for every
/// connection of the broker; ``close()`` ends it.
///
/// The actor runs on its own ``IOThreadExecutor`` thread, which is the only thread that
/// ever touches its rabbitmq-c handle: rabbitmq-c connections are neither thread-safe nor
/// non-blocking. While idle it sleeps in `poll` on the socket (``serve()``), waking for
/// incoming frames and at least every second to service heartbeats and deadlines.
///
/// Channel 1 carries synchronous methods (declarations); channel 2 carries the role's
/// traffic, so confirms and deliveries never interleave with a declaration's reply.
actor RabbitMQConnection: DeliveryAcknowledger {
    enum Role: Sendable {
        case publisher
        case consumer(queue: String, prefetch: UInt16, buffer: DeliveryBuffer)
    }

    nonisolated let executor: IOThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private static let controlChannel: UInt16 = 1
    private static let workChannel: UInt16 = 2
    /// Events handled per turn before other jobs (acks from consumers) get the thread.
    private static let eventsPerTurn = 256

    private let role: Role
    private let configuration: RabbitMQBroker.Configuration
    private let topologies: TopologyRegistry
    private let logger: Logger

    private var handle: AMQPConnectionHandle?
    /// The node of ``RabbitMQBroker/Configuration/nodes`` this connection uses or tries
    /// next. It starts at random, so the connections of many replicas spread over a cluster,
    /// and moves to the next node whenever a connection fails or is lost: a node that died
    /// or was cut off is not tried again until the others have been.
    private var nodeIndex: Int
    private var node: RabbitMQBroker.Configuration.Node { configuration.nodes[nodeIndex] }
    /// Grows by one whenever the connection is lost; deliveries remember theirs, so settling
    /// one from a previous connection is refused instead of acknowledging the wrong message.
    private var generation: UInt64 = 0 {
        didSet { liveGeneration.store(generation, ordering: .releasing) }
    }
    /// ``generation``, readable from any thread: ``settle(_:deliveryTag:generation:)``
    /// refuses a stale delivery at once, without waiting for this actor's thread.
    private nonisolated let liveGeneration = Atomic<UInt64>(0)
    /// A failure noticed outside ``serve()`` (e.g. a write that failed in ``publish(_:)``),
    /// which `serve()` rethrows to start the reconnection.
    private var pendingFailure: (any Error)?
    private var closing = false
    private var lifecycle = Lifecycle.idle
    /// The sleep between reconnection attempts, so ``close()`` can cut it short.
    private var backoff: Task<Void, any Error>?
    /// Callers of ``close()`` waiting for ``run()`` to end.
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    /// Whether the connection is up, readable from any thread without waiting for this
    /// actor (which may be blocked in a connect or a declaration for seconds): what readiness
    /// reports.
    private nonisolated let connected = Atomic<Bool>(false)
    private var connectionWaiters: [CheckedContinuation<Void, any Error>] = []
    private var publisher = PublisherConfirms()
    private var consumerTag: String?
    /// Deliveries read in the current turn of ``serve()``, handed to the buffer together.
    private var received: [Delivery] = []

    init(role: Role, configuration: RabbitMQBroker.Configuration, topologies: TopologyRegistry, logger: Logger) {
        self.role = role
        self.configuration = configuration
        self.topologies = topologies
        self.nodeIndex = Int.random(in: 0..<max(1, configuration.nodes.count))
        var logger = logger
        switch role {
        case .publisher:
            logger[metadataKey: "amqp.role"] = "publisher"
        case .consumer(let queue, _, _):
            logger[metadataKey: "amqp.role"] = "consumer"
            logger[metadataKey: "amqp.queue"] = "\(queue)"
        }
        self.logger = logger
        switch role {
        case .publisher: self.executor = IOThreadExecutor(name: "amqp-publish")
        case .consumer: self.executor = IOThreadExecutor(name: "amqp-consume")
        }
    }

    private enum Lifecycle {
        case idle, running, finished
    }

    /// Whether the connection is up (and, for a consumer, consuming), as of now.
    nonisolated var isConnected: Bool { connected.load(ordering: .acquiring) }

    /// Closes the connection for good and returns once ``run()`` has ended (at once if it
    /// never started). Unconfirmed publishes fail with ``BrokerError/Code/shutdown``; a
    /// consumer's unacknowledged deliveries return to the queue.
    func close() async {
        closing = true
        executor.interruptWait()
        backoff?.cancel()
        switch lifecycle {
        case .idle:
            lifecycle = .finished
            failEverything(BrokerError(.shutdown, "the broker connection was closed"))
            executor.shutdown()
        case .running:
            await withCheckedContinuation { closeWaiters.append($0) }
        case .finished:
            break
        }
    }

    // MARK: - Lifecycle

    /// Connects, serves and reconnects until ``close()``.
    func run() async {
        guard lifecycle == .idle else { return }
        lifecycle = .running
        defer {
            lifecycle = .finished
            for waiter in closeWaiters { waiter.resume() }
            closeWaiters.removeAll()
            executor.shutdown()
        }
        var attempt = 0
        while !closing {
            do {
                try connect()
                attempt = 0
                try await serve()
            } catch {
                if !closing {
                    logger.warning(
                        "AMQP connection lost", metadata: ["error.message": "\(error)", "amqp.node": "\(node)"])
                }
            }
            disconnect(graceful: closing)
            guard !closing else { break }
            nodeIndex = (nodeIndex + 1) % configuration.nodes.count
            let delay = reconnectDelay(attempt: attempt)
            attempt += 1
            let sleep = Task { try await Task.sleep(for: delay) }
            backoff = sleep
            _ = await sleep.result
            backoff = nil
            expirePublishes()
        }
        failEverything(BrokerError(.shutdown, "the broker connection was closed"))
    }

    private func connect() throws {
        let handle = try AMQPConnectionHandle(endpoint: configuration.endpoint(node))
        try handle.openChannel(Self.controlChannel)
        for topology in topologies.all {
            try declare(topology, using: handle)
        }
        try handle.openChannel(Self.workChannel)
        switch role {
        case .publisher:
            try handle.enableConfirms(on: Self.workChannel)
        case .consumer(let queue, let prefetch, _):
            let tag = "\(configuration.connectionName).\(UUID().uuidString.prefix(8).lowercased())"
            try handle.setPrefetch(prefetch, on: Self.workChannel)
            try handle.consume(queue: queue, consumerTag: tag, on: Self.workChannel)
            consumerTag = tag
        }
        self.handle = handle
        connected.store(true, ordering: .releasing)
        logger.info("AMQP connection established", metadata: ["amqp.node": "\(node)"])
        for waiter in connectionWaiters { waiter.resume() }
        connectionWaiters.removeAll()
        try resendPublishes()
    }

    /// Waits for frames and handles them until the connection fails or closes.
    private func serve() async throws {
        let tick = min(Duration.seconds(1), configuration.heartbeat / 2)
        while !closing {
            if let failure = pendingFailure {
                pendingFailure = nil
                throw failure
            }
            guard let handle else { return }
            var handled = 0
            while handled < Self.eventsPerTurn, let event = try handle.nextEvent() {
                try self.handle(event)
                handled += 1
            }
            flushDeliveries()
            expirePublishes()
            if publisher.nackRetryDue(now: .now) {
                logger.debug("sending nacked messages again", metadata: ["amqp.nacks": "\(publisher.nackCount)"])
                try resendPublishes()
            }
            if handled == Self.eventsPerTurn || handle.hasBufferedInput {
                // More is waiting: let queued jobs (acknowledgements, publishes) run first.
                await Task.yield()
            } else {
                // Nacked messages are due again sooner than the next tick, perhaps.
                let wait = publisher.nextNackRetry.map { max(.milliseconds(5), min(tick, $0 - .now)) } ?? tick
                _ = await executor.waitUntilReadable(handle.socketDescriptor, timeout: wait)
            }
        }
    }

    private func disconnect(graceful: Bool) {
        if let handle {
            if graceful, let consumerTag {
                // Cancel first so no new delivery arrives while the connection closes.
                try? handle.cancel(consumerTag: consumerTag, on: Self.workChannel)
            }
            handle.close(graceful: graceful)
        }
        handle = nil
        connected.store(false, ordering: .releasing)
        consumerTag = nil
        pendingFailure = nil
        // Read over the lost connection: they can no longer be acknowledged, and the broker
        // delivers them again.
        received.removeAll()
        generation += 1
        publisher.connectionLost()
        if case .consumer(_, _, let buffer) = role {
            buffer.dropDeliveries(before: generation)
        }
    }

    private func failEverything(_ error: BrokerError) {
        for waiter in connectionWaiters { waiter.resume(throwing: error) }
        connectionWaiters.removeAll()
        publisher.failAll(error)
        if case .consumer(_, _, let buffer) = role {
            buffer.finish()
        }
    }

    private func reconnectDelay(attempt: Int) -> Duration {
        let initial = configuration.reconnectInitialDelay
        let ceiling = configuration.reconnectMaximumDelay
        let exponential = initial * Int(1 << min(attempt, 20))
        let capped = min(exponential, ceiling)
        // Jitter spreads the reconnections of many services after a broker restart.
        return capped * Double.random(in: 0.5...1.0)
    }

    /// Records a failure seen outside ``serve()`` and wakes it to reconnect.
    private func fail(_ error: any Error) {
        if pendingFailure == nil { pendingFailure = error }
        executor.interruptWait()
    }

    /// Suspends until connected, or throws once `deadline` passes or the connection closes.
    private func waitForConnection(until deadline: ContinuousClock.Instant) async throws {
        guard handle == nil else { return }
        if closing { throw BrokerError(.shutdown, "the broker connection was closed") }
        let timeout = Task { [weak self] in
            try await Task.sleep(until: deadline)
            await self?.timeOutConnectionWaiters()
        }
        defer { timeout.cancel() }
        try await withCheckedThrowingContinuation { connectionWaiters.append($0) }
    }

    private func timeOutConnectionWaiters() {
        guard handle == nil else { return }
        let nodes = configuration.nodes.map(\.description).joined(separator: ", ")
        let error = BrokerError(.connectionFailed, "RabbitMQ at \(nodes) is unreachable")
        for waiter in connectionWaiters { waiter.resume(throwing: error) }
        connectionWaiters.removeAll()
    }

    // MARK: - Topology

    /// Declares `topology` now (waiting for the connection if needed) and remembers it for
    /// every future reconnection of every connection of the broker.
    func declare(_ topology: Topology) async throws {
        try await onControlChannel { handle in
            try self.declare(topology, using: handle)
            self.topologies.add(topology)
        }
    }

    /// A queue's counts, by a passive declaration on the control channel.
    func inspect(queue: String) async throws -> QueueStatus {
        try await onControlChannel { handle in
            let (messages, consumers) = try handle.inspect(queue: queue, on: Self.controlChannel)
            return QueueStatus(messageCount: Int(messages), consumerCount: Int(consumers))
        }
    }

    /// Runs a synchronous method on the control channel, waiting for the connection (until
    /// the publish timeout) and trying again on a new one if it breaks. A refusal by the
    /// broker (e.g. 406 PRECONDITION_FAILED, 404) closes only the control channel: it is
    /// reopened and the error thrown.
    private func onControlChannel<T>(_ body: (AMQPConnectionHandle) throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + configuration.publishTimeout
        while true {
            try await waitForConnection(until: deadline)
            guard let handle else { continue }
            do {
                let result = try body(handle)
                // rabbitmq-c may have queued other channels' frames while it waited for the
                // replies; serve() must look at them rather than wait for the socket.
                executor.interruptWait()
                return result
            } catch let error as BrokerError where error.code == .channelClosed {
                do {
                    try handle.openChannel(Self.controlChannel)
                } catch {
                    fail(error)
                }
                executor.interruptWait()
                throw error
            } catch {
                fail(error)
                if ContinuousClock.now >= deadline { throw error }
            }
        }
    }

    private func declare(_ topology: Topology, using handle: AMQPConnectionHandle) throws {
        for exchange in topology.exchanges {
            try handle.declare(exchange, on: Self.controlChannel)
        }
        for queue in topology.queues {
            try handle.declare(queue, on: Self.controlChannel)
        }
        for binding in topology.bindings {
            try handle.bind(binding, on: Self.controlChannel)
        }
    }

    // MARK: - Publishing

    /// Publishes `messages` and waits for all their confirms; see ``Broker/publish(_:)``.
    /// Unconfirmed messages are sent again after a reconnection, until the publish timeout.
    func publish(_ messages: [OutboundMessage]) async throws {
        guard !messages.isEmpty else { return }
        if closing { throw BrokerError(.shutdown, "the broker connection was closed") }
        let deadline = ContinuousClock.now + configuration.publishTimeout
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let request = publisher.enqueue(messages, deadline: deadline, continuation: continuation)
            guard handle != nil else { return }
            do {
                try send(request)
            } catch {
                fail(error)
            }
        }
    }

    private func send(_ request: PublisherConfirms.RequestID) throws {
        guard let handle else { return }
        var written = 0
        for (_, message) in publisher.assignTags(to: request) {
            try handle.publish(message, mandatory: true, on: Self.workChannel)
            written += 1
            // Read confirms while writing a long batch, so the broker's acks never pile up
            // unread in the socket while we only write.
            if written % 512 == 0 {
                while let event = try handle.nextEvent() { try self.handle(event) }
            }
        }
    }

    private func resendPublishes() throws {
        for request in publisher.requestsToSend() {
            try send(request)
        }
    }

    private func expirePublishes() {
        publisher.expire(now: .now)
    }

    // MARK: - Consuming

    /// Queues the settlement for the connection's thread and returns without waiting for it
    /// to be written: AMQP has no reply to an acknowledgement, and waiting would cost the
    /// caller a round trip through two threads per batch. Settlements are written in the
    /// order they were made. If the connection is lost before one is written, the broker
    /// redelivers the message, as it would for an acknowledgement lost on the wire.
    nonisolated func settle(_ settlement: Settlement, deliveryTag: UInt64, generation: UInt64) async throws {
        guard generation == liveGeneration.load(ordering: .acquiring) else {
            throw BrokerError(.staleDelivery, "the delivery's connection is gone; the broker will redeliver it")
        }
        executor.execute { [self] in
            assumeIsolated { $0.write(settlement, deliveryTag: deliveryTag, generation: generation) }
        }
    }

    private func write(_ settlement: Settlement, deliveryTag: UInt64, generation: UInt64) {
        guard generation == self.generation, let handle else { return }
        do {
            try handle.settle(settlement, deliveryTag: deliveryTag, on: Self.workChannel)
        } catch {
            fail(error)
        }
    }

    private func flushDeliveries() {
        guard !received.isEmpty, case .consumer(_, _, let buffer) = role else { return }
        buffer.push(contentsOf: received)
        received.removeAll(keepingCapacity: true)
    }

    // MARK: - Events

    private func handle(_ event: AMQPEvent) throws {
        switch event {
        case .ack(_, let tag, let multiple):
            publisher.confirm(upTo: tag, multiple: multiple, accepted: true)
        case .nack(_, let tag, let multiple):
            publisher.confirm(upTo: tag, multiple: multiple, accepted: false)
        case .returned(_, let replyCode, let replyText, let exchange, let routingKey, let properties):
            publisher.markReturned(
                messageID: properties.messageID, exchange: exchange, routingKey: routingKey,
                reason: "\(replyText) (\(replyCode)): no queue is bound to \(exchange) for \(routingKey)")
        case .delivery(_, let message):
            guard case .consumer(let queue, _, _) = role else { return }
            received.append(
                Delivery(
                    queue: queue, exchange: message.exchange, routingKey: message.routingKey,
                    redelivered: message.redelivered, deliveryTag: message.deliveryTag,
                    properties: message.properties, body: message.body, acknowledger: self, generation: generation))
        case .channelClosed(let channel, let replyCode, let replyText):
            let error = BrokerError(.channelClosed, replyText, replyCode: replyCode)
            switch (role, channel) {
            case (.publisher, Self.workChannel):
                // Whatever was in flight on the channel has no confirm coming: fail it, and
                // carry on with a fresh channel.
                logger.warning("publisher channel closed by the broker", metadata: ["error.message": "\(replyText)"])
                publisher.failInFlight(error)
                try handle?.openChannel(Self.workChannel)
                try handle?.enableConfirms(on: Self.workChannel)
                try resendPublishes()
            case (_, Self.controlChannel):
                try handle?.openChannel(Self.controlChannel)
            default:
                throw error
            }
        case .connectionClosed(let replyCode, let replyText):
            throw BrokerError(.connectionClosed, replyText, replyCode: replyCode)
        case .consumerCancelled:
            throw BrokerError(.channelClosed, "the broker cancelled the consumer (queue deleted?)")
        case .blocked(let reason):
            logger.warning("RabbitMQ blocked the connection (flow control)", metadata: ["amqp.reason": "\(reason)"])
        case .unblocked:
            logger.info("RabbitMQ unblocked the connection")
        case .ignored:
            break
        }
    }
}
