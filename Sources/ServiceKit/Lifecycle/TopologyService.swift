public import Broker
public import Logging
public import ServiceLifecycle

/// Declares the service's topology on the broker (retrying until RabbitMQ answers; the
/// broker then re-declares it after every reconnection) and marks the broker ready. The
/// broker itself runs as a service of its own, started before this one and stopped after
/// everything that uses it.
public struct TopologyService: Service {
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
        await untilItSucceeds("broker", logger: logger) {
            try await broker.declare(topology)
            readiness.markUp(Readiness.broker)
            logger.info("broker ready: topology declared")
        }
        // A service that returns ends its group: stay until the group stops.
        try? await gracefulShutdown()
    }
}
