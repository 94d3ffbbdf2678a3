import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A ``Broker`` over RabbitMQ, through rabbitmq-c.
///
/// It holds one publishing connection and one connection per consumer (RabbitMQ advises
/// separate connections: flow control that blocks a publisher must not stall its acks).
/// Each connection lives on its own thread and recovers by itself; see
/// ``RabbitMQConnection``.
public final class RabbitMQBroker: Broker {
    /// The configuration the broker was created with.
    public let configuration: Configuration
    private let logger: Logger
    private let topologies = TopologyRegistry()
    private let publisher: RabbitMQConnection
    private let consumers = Mutex<[ObjectIdentifier: RabbitMQConnection]>([:])

    /// Creates the broker and starts connecting its publishing connection in the background.
    public init(configuration: Configuration, logger: Logger) {
        // A write to a socket the peer closed raises SIGPIPE, whose default action ends the
        // process; a lost broker must be an error, not a crash.
        signal(SIGPIPE, SIG_IGN)
        self.configuration = configuration
        self.logger = logger
        self.publisher = RabbitMQConnection(role: .publisher, configuration: configuration, topologies: topologies, logger: logger)
        let publisher = self.publisher
        Task { await publisher.start() }
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
            role: .consumer(queue: queue, prefetch: UInt16(prefetch), buffer: buffer),
            configuration: configuration, topologies: topologies, logger: logger)
        let key = ObjectIdentifier(connection)
        consumers.withLock { $0[key] = connection }
        await connection.start()
        return BrokerConsumer(queue: queue, buffer: buffer) { [weak self] in
            _ = self?.consumers.withLock { $0.removeValue(forKey: key) }
            await connection.close()
        }
    }

    public func isReady() async -> Bool {
        guard await publisher.isConnected else { return false }
        for consumer in consumers.withLock({ Array($0.values) }) {
            guard await consumer.isConnected else { return false }
        }
        return true
    }

    public func shutdown() async {
        let all = consumers.withLock { consumers in
            defer { consumers.removeAll() }
            return Array(consumers.values)
        }
        for consumer in all { await consumer.close() }
        await publisher.close()
    }
}
