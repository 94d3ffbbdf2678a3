public import Broker
import Contracts
import Foundation
public import Hummingbird
public import Logging
public import Postgres
public import ServiceLifecycle

/// The parts every Mercato service is made of, wired the same way in each: a PostgreSQL
/// pool, a broker, an outbox relay, event consumers and an HTTP server with the same
/// middleware, health, metrics and OpenAPI routes. A service makes one over its
/// ``ServiceDependencies``, adds its own consumers, background services and routes, and gets
/// a ``ServiceApplication`` to run (or, in tests, to send requests to).
public struct ServiceRuntime: Sendable {
    /// The configuration read from the environment.
    public let configuration: ServiceConfiguration
    /// The database, broker, outbox and logger the service is built on.
    public let dependencies: ServiceDependencies
    /// What is up so far.
    public let readiness = Readiness()

    /// The service's logger.
    public var logger: Logger { dependencies.logger }
    /// The service's database.
    public var database: PostgresClient { dependencies.database }
    /// The broker.
    public var broker: any Broker { dependencies.broker }

    /// A runtime over `dependencies`; nothing connects until the application runs.
    public init(configuration: ServiceConfiguration, dependencies: ServiceDependencies) {
        self.configuration = configuration
        self.dependencies = dependencies
    }

    /// Sets up the process's logging, metrics and tracing (``Observability``). Call once,
    /// first thing in `main`.
    public static func bootstrap(_ configuration: ServiceConfiguration) {
        Observability.bootstrap(configuration)
    }

    /// A consumer of `queue` with the configured prefetch, batch size and attempts.
    public func consumer(of queue: String, handler: any EventHandler) -> EventConsumer {
        var consumerConfiguration = EventConsumer.Configuration()
        consumerConfiguration.prefetch = configuration.consumerPrefetch
        consumerConfiguration.batchSize = configuration.consumerBatchSize
        consumerConfiguration.maxAttempts = configuration.consumerMaxAttempts
        consumerConfiguration.producers = configuration.producerPolicy
        return EventConsumer(
            queue: queue, handler: handler, broker: broker, readiness: readiness,
            serviceName: configuration.serviceName,
            configuration: consumerConfiguration, logger: logger)
    }

    /// Builds the service: `openAPI` is its OpenAPI document, served at `GET /openapi.json`;
    /// `background` are its own services, started after the database and the broker and
    /// stopped before them; `readinessDetails` adds informative state to `/health/ready` (it
    /// never makes the service unready); `routes` adds its routes behind the common
    /// middleware.
    ///
    /// Shutdown goes in reverse (`RuntimeServices`): HTTP stops accepting and finishes its
    /// requests, consumers finish their batch, the relay its publish, then the connections
    /// close, and the span exporter sends the last spans.
    public func application(
        migrations: [PostgresMigration],
        afterMigrations: @escaping @Sendable (PostgresClient) async throws -> Void = { _ in },
        consumers: [EventConsumer],
        background: [any Service] = [],
        readinessDetails: @escaping @Sendable () -> [String: String] = { [:] },
        openAPI: [UInt8],
        routes: (Router<MercatoRequestContext>, AccessGuard) -> Void
    ) async throws -> ServiceApplication {
        // Keys are loaded before anything listens: a service that cannot verify tokens
        // does not start.
        let access = AccessGuard(verifier: try await TokenVerifier(configuration: configuration.auth))
        let router = Router(context: MercatoRequestContext.self)
        // Outermost first: metrics and the server span see the status APIErrorMiddleware
        // turned an error into.
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: TracingMiddleware())
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(openAPI: openAPI))
        HealthRoutes.add(
            to: router, readiness: readiness, database: database, broker: broker, details: readinessDetails)
        MetricsRoutes.add(to: router, registry: Observability.registry)
        OpenAPIRoute.add(to: router, document: openAPI)
        routes(router, access)

        let outbox = dependencies.outbox
        let logger = self.logger
        let pruning = configuration.outboxPruning
        let housekeeping = Housekeeping(interval: pruning.interval) {
            do {
                try await outbox.prune(publishedBefore: pruning.keepPublished, inboxAge: pruning.keepInbox)
            } catch {
                logger.debug("outbox pruning failed", metadata: ["error.message": "\(error)"])
            }
        }
        var relayConfiguration = OutboxRelay.Configuration()
        relayConfiguration.workers = configuration.relayWorkers
        let services = RuntimeServices(
            spanExporter: Observability.spanExporter,
            database: DatabaseService(
                client: database, migrations: MessagingSchema.migrations + migrations, readiness: readiness,
                logger: logger,
                afterMigrations: afterMigrations),
            outboxListener: dependencies.outboxListener,
            broker: broker,
            topology: TopologyService(
                broker: broker, topology: .mercato(queueType: configuration.queueType), readiness: readiness,
                logger: logger),
            relay: OutboxRelay(
                store: outbox, broker: broker, readiness: readiness, configuration: relayConfiguration, logger: logger,
                afterBatch: { await housekeeping.tick() }),
            sampler: MetricsSampler(outbox: outbox, database: database, readiness: readiness),
            background: background,
            consumers: consumers)
        return ServiceApplication(
            responder: router.buildResponder(), services: services.inStartOrder, configuration: configuration,
            logger: logger)
    }
}
