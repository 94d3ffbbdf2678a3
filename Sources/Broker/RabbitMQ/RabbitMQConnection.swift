import Foundation
import IOThread
import Logging
import Synchronization

/// One AMQP connection that keeps itself alive: it connects, declares the broker's topology,
/// sets up its work channel (``PublisherChannel`` or ``ConsumerChannel``), and after any
/// failure reconnects with exponential backoff and does all of that again. The decisions —
/// when to connect, which node, how long to wait, what a close must do — are
/// ``ConnectionStateMachine``'s; this actor does the I/O they call for.
///
/// Nothing connects until ``run()``, which ``RabbitMQBroker/run()`` calls for every
/// connection of the broker; ``close()`` ends it.
///
/// The actor runs on its own ``IOThreadExecutor`` thread, which is the only thread that
/// ever touches its rabbitmq-c handle: rabbitmq-c connections are neither thread-safe nor
/// non-blocking. While idle it sleeps in `poll` on the socket (``serve()``), waking for
/// incoming frames and at least every second to service heartbeats and deadlines.
///
/// Channel 1 carries synchronous methods (declarations); channel 2 is the work channel, so
/// confirms and deliveries never interleave with a declaration's reply.
actor RabbitMQConnection<Work: WorkChannel>: DeliveryAcknowledger {
    nonisolated let executor: IOThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    static var controlChannel: UInt16 { 1 }
    static var workChannel: UInt16 { 2 }
    /// Events handled per turn before other jobs (acks from consumers) get the thread.
    private static var eventsPerTurn: Int { 256 }

    let work: Work
    let configuration: RabbitMQBroker.Configuration
    let topologies: TopologyRegistry
    private let logger: Logger

    private(set) var machine: ConnectionStateMachine {
        didSet { liveGeneration.store(machine.generation, ordering: .releasing) }
    }
    /// The open connection, while ``machine`` is connected.
    private(set) var handle: AMQPConnectionHandle?
    private var node: RabbitMQBroker.Configuration.Node { configuration.nodes[machine.node] }
    /// The machine's generation, readable from any thread: ``settle(_:deliveryTag:generation:)``
    /// refuses a stale delivery at once, without waiting for this actor's thread.
    private nonisolated let liveGeneration = Atomic<UInt64>(0)
    /// Whether the connection is up, readable from any thread without waiting for this
    /// actor (which may be blocked in a connect or a declaration for seconds): what readiness
    /// reports.
    private nonisolated let connected = Atomic<Bool>(false)
    /// A failure noticed outside ``serve()`` (e.g. a write that failed in a publish), which
    /// `serve()` rethrows to start the reconnection.
    private var pendingFailure: (any Error)?
    /// The sleep between reconnection attempts, so ``close()`` can cut it short.
    private var backoff: Task<Void, any Error>?
    /// Callers of ``close()`` waiting for ``run()`` to end.
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    /// Callers waiting for a connection (declarations, inspections).
    private var connectionWaiters: [CheckedContinuation<Void, any Error>] = []

    init(work: sending Work, configuration: RabbitMQBroker.Configuration, topologies: TopologyRegistry, logger: Logger)
    {
        self.work = work
        self.configuration = configuration
        self.topologies = topologies
        self.machine = ConnectionStateMachine(
            nodeCount: configuration.nodes.count, firstNode: Int.random(in: 0..<max(1, configuration.nodes.count)),
            initialDelay: configuration.reconnectInitialDelay, maximumDelay: configuration.reconnectMaximumDelay)
        var logger = logger
        for (key, value) in work.metadata { logger[metadataKey: key] = value }
        self.logger = logger
        self.executor = IOThreadExecutor(name: "amqp-\(work.role)")
    }

    /// Whether the connection is up (and its work channel set up), as of now.
    nonisolated var isConnected: Bool { connected.load(ordering: .acquiring) }

    /// Closes the connection for good and returns once ``run()`` has ended (at once if it
    /// never started). Unconfirmed publishes fail with ``BrokerError/Code/shutdown``; a
    /// consumer's unacknowledged deliveries return to the queue.
    func close() async {
        let action = machine.close()
        executor.interruptWait()
        backoff?.cancel()
        switch action {
        case .finishNow:
            failEverything()
            executor.shutdown()
        case .waitForRun:
            await withCheckedContinuation { closeWaiters.append($0) }
        case .none:
            break
        }
    }

    // MARK: - Lifecycle

    /// Connects, serves and reconnects until ``close()``.
    func run() async {
        guard machine.start() == .connect else { return }
        defer {
            machine.runEnded()
            for waiter in closeWaiters { waiter.resume() }
            closeWaiters.removeAll()
            executor.shutdown()
        }
        repeat {
            do {
                try connect()
                try await serve()
            } catch {
                if !machine.isClosing {
                    logger.warning(
                        "AMQP connection lost", metadata: ["error.message": "\(error)", "amqp.node": "\(node)"])
                }
            }
            disconnect(graceful: machine.isClosing)
            let next = machine.connectionEnded(jitter: .random(in: 0.5...1.0))
            work.connectionLost(generation: machine.generation)
            guard case .reconnect(let delay) = next else { break }
            let sleep = Task { try await Task.sleep(for: delay) }
            backoff = sleep
            _ = await sleep.result
            backoff = nil
            try? work.endTurn(nil, now: .now)
        } while machine.backoffEnded() == .connect
        failEverything()
    }

    private func connect() throws {
        let handle = try AMQPConnectionHandle(endpoint: configuration.endpoint(node))
        try handle.openChannel(Self.controlChannel)
        for topology in topologies.all {
            try declare(topology, using: handle)
        }
        try handle.openChannel(Self.workChannel)
        self.handle = handle
        try work.open(link(handle))
        machine.connected()
        connected.store(true, ordering: .releasing)
        logger.info("AMQP connection established", metadata: ["amqp.node": "\(node)"])
        for waiter in connectionWaiters { waiter.resume() }
        connectionWaiters.removeAll()
    }

    /// Waits for frames and handles them until the connection fails or closes.
    private func serve() async throws {
        let tick = min(Duration.seconds(1), configuration.heartbeat / 2)
        while !machine.isClosing {
            if let failure = pendingFailure {
                pendingFailure = nil
                throw failure
            }
            guard let handle else { return }
            let link = link(handle)
            var handled = 0
            while handled < Self.eventsPerTurn, let event = try handle.nextEvent() {
                try dispatch(event, link)
                handled += 1
            }
            let now = ContinuousClock.now
            try work.endTurn(link, now: now)
            if handled == Self.eventsPerTurn || handle.hasBufferedInput {
                // More is waiting: let queued jobs (acknowledgements, publishes) run first.
                await Task.yield()
            } else {
                // The work channel may be due again sooner than the next tick (a nack retry).
                let wait = work.nextDeadline.map { max(.milliseconds(5), min(tick, $0 - now)) } ?? tick
                _ = await executor.waitUntilReadable(handle.socketDescriptor, timeout: wait)
            }
        }
    }

    private func disconnect(graceful: Bool) {
        if let handle {
            work.willDisconnect(handle, channel: Self.workChannel, graceful: graceful)
            handle.close(graceful: graceful)
        }
        handle = nil
        connected.store(false, ordering: .releasing)
        pendingFailure = nil
    }

    private func failEverything() {
        let error = BrokerError(.shutdown, "the broker connection was closed")
        for waiter in connectionWaiters { waiter.resume(throwing: error) }
        connectionWaiters.removeAll()
        work.finish(error)
    }

    /// The work channel's view of the open connection, if there is one.
    func currentLink() -> WorkLink? {
        guard let handle else { return nil }
        return link(handle)
    }

    private func link(_ handle: AMQPConnectionHandle) -> WorkLink {
        WorkLink(
            operations: handle, channel: Self.workChannel, generation: machine.generation, acknowledger: self,
            drainEvents: { try self.drainEvents(handle) })
    }

    private func drainEvents(_ handle: AMQPConnectionHandle) throws {
        let link = link(handle)
        while let event = try handle.nextEvent() { try dispatch(event, link) }
    }

    /// Records a failure seen outside ``serve()`` and wakes it to reconnect.
    func fail(_ error: any Error) {
        if pendingFailure == nil { pendingFailure = error }
        executor.interruptWait()
    }

    /// Suspends until connected, or throws once `deadline` passes or the connection closes.
    func waitForConnection(until deadline: ContinuousClock.Instant) async throws {
        switch machine.waitAction {
        case .proceed: return
        case .fail: throw BrokerError(.shutdown, "the broker connection was closed")
        case .wait: break
        }
        let timeout = Task { [weak self] in
            try await Task.sleep(until: deadline)
            await self?.timeOutConnectionWaiters()
        }
        defer { timeout.cancel() }
        try await withCheckedThrowingContinuation { connectionWaiters.append($0) }
    }

    private func timeOutConnectionWaiters() {
        guard !machine.isConnected else { return }
        let nodes = configuration.nodes.map(\.description).joined(separator: ", ")
        let error = BrokerError(.connectionFailed, "RabbitMQ at \(nodes) is unreachable")
        for waiter in connectionWaiters { waiter.resume(throwing: error) }
        connectionWaiters.removeAll()
    }

    // MARK: - Settling deliveries

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
        guard generation == machine.generation, let handle else { return }
        do {
            try handle.settle(settlement, deliveryTag: deliveryTag, on: Self.workChannel)
        } catch {
            fail(error)
        }
    }

    // MARK: - Events

    /// Handles the connection's own events; the rest are the work channel's.
    private func dispatch(_ event: AMQPEvent, _ link: WorkLink) throws {
        switch event {
        case .channelClosed(let channel, let replyCode, let replyText) where channel != Self.workChannel:
            guard channel == Self.controlChannel else {
                throw BrokerError(.channelClosed, replyText, replyCode: replyCode)
            }
            try handle?.openChannel(Self.controlChannel)
        case .connectionClosed(let replyCode, let replyText):
            throw BrokerError(.connectionClosed, replyText, replyCode: replyCode)
        case .blocked(let reason):
            logger.warning("RabbitMQ blocked the connection (flow control)", metadata: ["amqp.reason": "\(reason)"])
        case .unblocked:
            logger.info("RabbitMQ unblocked the connection")
        case .ignored:
            break
        case .ack, .nack, .returned, .delivery, .channelClosed, .consumerCancelled:
            try work.handle(event, link)
        }
    }
}
