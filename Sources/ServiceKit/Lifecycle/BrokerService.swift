public import Broker
public import Contracts
public import Logging
public import ServiceLifecycle

/// Owns the broker for the service's lifetime: declares the topology (retrying until
/// RabbitMQ answers; the broker then re-declares it after every reconnection), marks the
/// broker ready, and closes its connections at shutdown, after the consumers and the relay.
public struct BrokerService: Service {
    private let broker: any Broker
    private let topology: Topology
    private let readiness: Readiness
    private let logger: Logger

    /// Creates the service.
    public init(broker: any Broker, topology: Topology, readiness: Readiness, logger: Logger) {
        self.broker = broker
        self.topology = topology
        self.readiness = readiness
        self.logger = logger
        readiness.require(Readiness.broker)
    }

    public func run() async throws {
        var delay = Duration.milliseconds(250)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await broker.declare(topology)
                readiness.markUp(Readiness.broker)
                logger.info("broker ready: topology declared")
                break
            } catch {
                logger.warning("broker not ready; retrying", metadata: ["error.message": "\(error)", "retry.delay": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        try? await gracefulShutdown()
        await broker.shutdown()
    }
}
