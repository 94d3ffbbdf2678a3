public import Broker
import Contracts
import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import Postgres
public import ServiceLifecycle

/// The parts every Mercato service is made of, wired the same way in each: a PostgreSQL
/// pool, a RabbitMQ broker, an outbox relay, event consumers and an HTTP server, run as one
/// ServiceLifecycle group that stops gracefully on SIGTERM or SIGINT.
public struct ServiceRuntime: Sendable {
    /// The configuration read from the environment.
    public let configuration: ServiceConfiguration
    /// The service's logger.
    public let logger: Logger
    /// The service's database.
    public let database: PostgresClient
    /// The broker.
    public let broker: any Broker
    /// What is up so far.
    public let readiness = Readiness()
    /// The outbox in the service's database.
    public let outbox: PostgresOutboxStore

    /// Creates the clients; nothing connects until ``run(migrations:afterMigrations:consumers:routes:)``.
    public init(configuration: ServiceConfiguration) throws {
        self.configuration = configuration
        var logger = Logger(label: configuration.serviceName)
        logger.logLevel = configuration.logLevel
        self.logger = logger

        var databaseConfiguration = try PostgresClient.Configuration(url: configuration.databaseURL)
        databaseConfiguration.poolSize = configuration.databasePoolSize
        databaseConfiguration.applicationName = configuration.serviceName
        self.database = PostgresClient(configuration: databaseConfiguration, logger: logger)
        self.outbox = PostgresOutboxStore(client: database)

        var brokerConfiguration = try RabbitMQBroker.Configuration(url: configuration.amqpURL)
        brokerConfiguration.connectionName = configuration.serviceName
        if let caFile = configuration.amqpCAFile { brokerConfiguration.caFile = caFile }
        self.broker = RabbitMQBroker(configuration: brokerConfiguration, logger: logger)
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
            queue: queue, handler: handler, broker: broker, readiness: readiness, serviceName: configuration.serviceName,
            configuration: consumerConfiguration, logger: logger)
    }

    /// Runs the service until SIGTERM or SIGINT; `openAPI` is the service's OpenAPI document,
    /// served at `GET /openapi.json`; `background` are the service's own services, started
    /// after the database and the broker and stopped before them; `readinessDetails` adds
    /// informative state to `/health/ready` (it never makes the service unready).
    ///
    /// Start-up never fails for an unreachable dependency: the HTTP server answers at once
    /// (live, but not ready), while the database and broker are retried in the background.
    /// Shutdown goes in reverse (``RuntimeServices``): HTTP stops accepting and finishes its
    /// requests, consumers finish their batch, the relay its publish, then the connections
    /// close, and the span exporter sends the last spans.
    public func run(
        migrations: [PostgresMigration],
        afterMigrations: @escaping @Sendable (PostgresClient) async throws -> Void = { _ in },
        consumers: [EventConsumer],
        background: [any Service] = [],
        readinessDetails: @escaping @Sendable () -> [String: String] = { [:] },
        openAPI: [UInt8],
        routes: (Router<MercatoRequestContext>, AccessGuard) -> Void
    ) async throws {
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
        HealthRoutes.add(to: router, readiness: readiness, database: database, broker: broker, details: readinessDetails)
        MetricsRoutes.add(to: router, registry: Observability.registry)
        OpenAPIRoute.add(to: router, document: openAPI)
        routes(router, access)

        let outbox = self.outbox
        let logger = self.logger
        let housekeeping = Housekeeping(interval: .seconds(300)) {
            do {
                try await outbox.prune(publishedBefore: .seconds(3600), inboxAge: .seconds(7 * 24 * 3600))
            } catch {
                logger.debug("outbox pruning failed", metadata: ["error.message": "\(error)"])
            }
        }
        var relayConfiguration = OutboxRelay.Configuration()
        relayConfiguration.workers = configuration.relayWorkers
        let services = RuntimeServices(
            spanExporter: Observability.spanExporter,
            database: DatabaseService(
                client: database, migrations: MessagingSchema.migrations + migrations, readiness: readiness, logger: logger,
                afterMigrations: afterMigrations),
            outboxListener: outbox.listener,
            broker: broker,
            topology: TopologyService(broker: broker, topology: .mercato(queueType: configuration.queueType), readiness: readiness, logger: logger),
            relay: OutboxRelay(
                store: outbox, broker: broker, readiness: readiness, configuration: relayConfiguration, logger: logger,
                afterBatch: { await housekeeping.tick() }),
            sampler: MetricsSampler(outbox: outbox, database: database, readiness: readiness),
            background: background,
            consumers: consumers)
        // The idle timeout (Hummingbird's HTTPConnectionStateHandler) counts from the last
        // request part read or response finished, and never fires while a response is being
        // written: it closes silent and half-sent connections, not long responses.
        let idleTimeout = configuration.httpIdleTimeout.components
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(idleTimeout.seconds))),
            configuration: .init(address: .hostname("0.0.0.0", port: configuration.port), serverName: configuration.serviceName),
            services: services.inStartOrder,
            logger: logger)
        logger.info(
            "starting",
            metadata: [
                "http.port": "\(configuration.port)", "db.url": "\(PostgresClient.Configuration.redacted(configuration.databaseURL))",
                "amqp.url": "\(RabbitMQBroker.Configuration.redacted(configuration.amqpURL))",
            ])
        try await app.runService()
    }
}
