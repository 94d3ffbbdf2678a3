public import Broker
public import Logging
public import ServiceLifecycle

/// Declares the service's topology on the broker (retrying until RabbitMQ answers; the
/// broker then re-declares it after every reconnection) and marks the broker ready.
///
/// A service whose broker user may not configure (production: least privilege, the topology
/// applied by an admin step) is refused (403); it then checks passively that every queue
/// exists, and until they all do, `/health/ready` lists each missing one as `topology:NAME`.
/// The
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
            do {
                try await broker.declare(topology)
                logger.info("broker ready: topology declared")
            } catch let error as BrokerError where error.replyCode == 403 {
                try await checkPassively()
            }
            readiness.markUp(Readiness.broker)
        }
        // A service that returns ends its group: stay until the group stops.
        try? await gracefulShutdown()
    }

    /// Throws until every queue of the topology exists; names the missing ones in readiness.
    private func checkPassively() async throws {
        var missing: [String] = []
        for queue in topology.queues {
            do {
                _ = try await broker.inspect(queue: queue.name)
                readiness.markUp("topology:\(queue.name)")
            } catch let error as BrokerError where error.replyCode == 404 {
                readiness.require("topology:\(queue.name)")
                missing.append(queue.name)
            }
        }
        guard missing.isEmpty else {
            logger.warning(
                "the broker user may not declare the topology and part of it is missing; apply it with `mercato topology apply`",
                metadata: ["amqp.missing_queues": "\(missing.joined(separator: ","))"])
            throw BrokerError(.channelClosed, "topology incomplete: \(missing.count) queues missing", replyCode: 404)
        }
        logger.info("broker ready: topology present (checked passively; this user may not declare it)")
    }
}
