import Locking
public import Logging
import ServiceLifecycle

/// A ``Broker`` over RabbitMQ, through rabbitmq-c.
///
/// It holds one publishing connection and one connection per consumer (RabbitMQ advises
/// separate connections: flow control that blocks a publisher must not stall its acks).
/// Each connection lives on its own thread and recovers by itself; see
/// `RabbitMQConnection`.
///
/// It is a `Service`: creating it connects nothing and starts no task. Its connections —
/// the publisher's and one per ``consume(queue:prefetch:)`` — run inside ``run()``, which
/// returns once the broker is shut down: by a graceful shutdown of its `ServiceGroup`, by
/// cancellation, or by ``shutdown()``. Calls made before `run()` starts wait for it (a
/// publish or declaration until its timeout).
public final class RabbitMQBroker: Broker {
    /// The configuration the broker was created with.
    public let configuration: Configuration
    private let logger: Logger
    private let topologies = TopologyRegistry()
    private let publisher: RabbitMQConnection<PublisherChannel>
    private let consumers = Locked<[ObjectIdentifier: RabbitMQConnection<ConsumerChannel>]>([:])
    /// Consumer connections for ``run()`` to start; buffered until it does.
    private let newConnections: AsyncStream<RabbitMQConnection<ConsumerChannel>>
    private let newConnectionsContinuation: AsyncStream<RabbitMQConnection<ConsumerChannel>>.Continuation
    private let lifecycle = Locked(Lifecycle())

    private struct Lifecycle {
        var running = false
        var shutDown = false
        /// Callers of ``shutdown()`` waiting for ``run()`` to end.
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        /// Resumed by ``requestShutdown()``: the task in ``run()`` that closes everything.
        var closer: CheckedContinuation<Void, Never>?
        var finished = false
    }

    /// Creates the broker. Nothing connects until ``run()``.
    public init(configuration: Configuration, logger: Logger) {
        precondition(!configuration.nodes.isEmpty, "RabbitMQBroker.Configuration.nodes must name at least one node")
        self.configuration = configuration
        self.logger = logger
        self.publisher = RabbitMQConnection(
            work: PublisherChannel(logger: logger), configuration: configuration, topologies: topologies,
            logger: logger)
        (newConnections, newConnectionsContinuation) = AsyncStream.makeStream()
    }

    /// Runs the broker's connections until it is shut down (graceful shutdown, cancellation
    /// or ``shutdown()``), then closes them: consumers first, so no delivery arrives while
    /// the publisher finishes.
    public func run() async throws {
        let starts = lifecycle.withLock { state -> Bool in
            guard !state.running, !state.shutDown else { return false }
            state.running = true
            return true
        }
        guard starts else { return }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.publisher.run() }
                    group.addTask {
                        await self.waitForShutdownRequest()
                        await self.closeConnections()
                    }
                    for await connection in newConnections {
                        group.addTask { await connection.run() }
                    }
                }
            } onGracefulShutdown: {
                self.requestShutdown()
            }
        } onCancel: {
            self.requestShutdown()
        }
        let waiters = lifecycle.withLock { state in
            state.finished = true
            defer { state.shutdownWaiters.removeAll() }
            return state.shutdownWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    public func declare(_ topology: Topology) async throws {
        try await publisher.declare(topology)
    }

    public func publish(_ messages: [OutboundMessage]) async throws {
        try await publisher.publish(messages)
    }

    public func consume(queue: String, prefetch: Int) async throws -> BrokerConsumer {
        guard (1...Int(UInt16.max)).contains(prefetch) else {
            throw BrokerError(.invalidConfiguration, "prefetch must be between 1 and 65535, not \(prefetch)")
        }
        let buffer = DeliveryBuffer()
        let connection = RabbitMQConnection(
            work: ConsumerChannel(
                queue: queue, prefetch: UInt16(prefetch), buffer: buffer, connectionName: configuration.connectionName),
            configuration: configuration, topologies: topologies, logger: logger)
        let key = ObjectIdentifier(connection)
        let accepted = lifecycle.withLock { state -> Bool in
            guard !state.shutDown else { return false }
            consumers.withLock { $0[key] = connection }
            return true
        }
        guard accepted, case .enqueued = newConnectionsContinuation.yield(connection) else {
            _ = consumers.withLock { $0.removeValue(forKey: key) }
            throw BrokerError(.shutdown, "the broker was shut down")
        }
        return BrokerConsumer(queue: queue, buffer: buffer) { [weak self] in
            _ = self?.consumers.withLock { $0.removeValue(forKey: key) }
            await connection.close()
        }
    }

    public func inspect(queue: String) async throws -> QueueStatus {
        try await publisher.inspect(queue: queue)
    }

    public var isReady: Bool {
        guard publisher.isConnected else { return false }
        return consumers.withLock { $0.values.allSatisfy(\.isConnected) }
    }

    /// Shuts the broker down and returns once its connections are closed: pending publishes
    /// fail with ``BrokerError/Code/shutdown``, unacknowledged deliveries return to their
    /// queues. Ends ``run()``.
    public func shutdown() async {
        let wait = lifecycle.withLock { state -> Bool in
            state.running && !state.finished
        }
        requestShutdown()
        if wait {
            await withCheckedContinuation { continuation in
                let done = lifecycle.withLock { state -> Bool in
                    if state.finished { return true }
                    state.shutdownWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } else {
            // Never ran: nothing is connected, but waiting callers must learn it is over.
            await closeConnections()
        }
    }

    /// Marks the broker shut down and wakes the task in ``run()`` that closes everything.
    private func requestShutdown() {
        let closer = lifecycle.withLock { state -> CheckedContinuation<Void, Never>? in
            state.shutDown = true
            defer { state.closer = nil }
            return state.closer
        }
        newConnectionsContinuation.finish()
        closer?.resume()
    }

    private func waitForShutdownRequest() async {
        await withCheckedContinuation { continuation in
            let now = lifecycle.withLock { state -> Bool in
                if state.shutDown { return true }
                state.closer = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func closeConnections() async {
        let all = consumers.withLock { consumers in
            defer { consumers.removeAll() }
            return Array(consumers.values)
        }
        await withDiscardingTaskGroup { group in
            for consumer in all { group.addTask { await consumer.close() } }
        }
        await publisher.close()
    }
}
