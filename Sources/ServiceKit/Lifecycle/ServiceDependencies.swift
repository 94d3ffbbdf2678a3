public import Broker
public import Logging
public import Postgres
public import ServiceLifecycle

/// What a service is built on and does not build itself: the database client, the broker, the
/// outbox the relay publishes from, and the logger. ``live(_:)`` makes the real ones from the
/// configuration; tests pass the in-memory broker and outbox instead (the database client is
/// then never run, and `/health/ready` says so).
public struct ServiceDependencies: Sendable {
    /// The service's PostgreSQL pool; nothing connects until the application runs.
    public var database: PostgresClient
    /// The broker.
    public var broker: any Broker
    /// The outbox the relay publishes from (and prunes).
    public var outbox: any OutboxStore
    /// What wakes the relay when another replica commits to the outbox (PostgreSQL's
    /// `LISTEN`), run before the relay; `nil` when nothing else writes to this outbox.
    public var outboxListener: (any Service)?
    /// The service's logger.
    public var logger: Logger

    /// Dependencies as given.
    public init(
        database: PostgresClient, broker: any Broker, outbox: any OutboxStore, outboxListener: (any Service)?,
        logger: Logger
    ) {
        self.database = database
        self.broker = broker
        self.outbox = outbox
        self.outboxListener = outboxListener
        self.logger = logger
    }

    /// The real dependencies: a pool on `DATABASE_URL`, a RabbitMQ broker on `AMQP_URL`, the
    /// outbox in the service's database. Creating them connects nothing.
    public static func live(_ configuration: ServiceConfiguration) throws -> ServiceDependencies {
        var logger = Logger(label: configuration.serviceName)
        logger.logLevel = configuration.logLevel

        var databaseConfiguration = try PostgresClient.Configuration(url: configuration.databaseURL)
        databaseConfiguration.poolSize = configuration.databasePoolSize
        databaseConfiguration.applicationName = configuration.serviceName
        let database = PostgresClient(configuration: databaseConfiguration, logger: logger)
        let outbox = PostgresOutboxStore(client: database)

        var brokerConfiguration = try RabbitMQBroker.Configuration(url: configuration.amqpURL)
        brokerConfiguration.connectionName = configuration.serviceName
        if let caFile = configuration.amqpCAFile { brokerConfiguration.caFile = caFile }
        let broker = RabbitMQBroker(configuration: brokerConfiguration, logger: logger)
        return ServiceDependencies(
            database: database, broker: broker, outbox: outbox, outboxListener: outbox.listener, logger: logger)
    }
}
