import Contracts
package import Postgres
package import ServiceKit

/// order-service: orders over HTTP, `order.created` and `order.cancelled` through the outbox,
/// invoice and payment status (and cancellation of orders whose invoice is overdue) and the
/// customer replica from events, and the live view of every order's changes.
package enum OrderServiceApp {
    /// What order-service is built on: the common dependencies, its storage, the directory it
    /// looks customers up in, and what wakes its live view.
    package struct Dependencies: Sendable {
        /// The database, broker, outbox and logger.
        package var service: ServiceDependencies
        /// Orders, the customer replica and the change log.
        package var repository: any OrderRepository
        /// Where a customer missing from the replica is looked up.
        package var directory: any CustomerDirectory
        /// Wakes the live view when another replica writes (`LISTEN order_changes`); `nil`
        /// when no other writer shares the repository.
        package var changeListener: PostgresListener?

        /// Dependencies as given.
        package init(
            service: ServiceDependencies, repository: any OrderRepository, directory: any CustomerDirectory,
            changeListener: PostgresListener? = nil
        ) {
            self.service = service
            self.repository = repository
            self.directory = directory
            self.changeListener = changeListener
        }

        /// The real ones: PostgreSQL, RabbitMQ, customer-service over HTTP.
        package static func live(_ configuration: OrderServiceConfiguration) throws -> Dependencies {
            let service = try ServiceDependencies.live(configuration.service)
            return Dependencies(
                service: service,
                repository: PostgresOrderRepository(client: service.database, stamp: configuration.service.eventStamp),
                directory: HTTPCustomerDirectory(
                    baseURL: configuration.customerServiceURL, timeout: configuration.customerLookupTimeout),
                changeListener: service.database.listen([OrderChangeFeed.channel]))
        }
    }

    /// Builds the service from `configuration` over `dependencies`.
    package static func build(_ configuration: OrderServiceConfiguration, dependencies: Dependencies) async throws
        -> ServiceApplication
    {
        let runtime = ServiceRuntime(configuration: configuration.service, dependencies: dependencies.service)
        let repository = dependencies.repository
        let feed = OrderChangeFeed(
            repository: repository, listener: dependencies.changeListener, readiness: runtime.readiness,
            configuration: configuration.feed,
            logger: runtime.logger)
        let admission = OrderAdmission(configuration: configuration.admission)
        let live = LiveRoutes(
            repository: repository, feed: feed, queues: QueueHealth(broker: runtime.broker),
            heartbeat: configuration.streamHeartbeat,
            maxStreamsPerCaller: configuration.streamsPerCaller)
        return try await runtime.application(
            migrations: OrderMigrations.all,
            consumers: [
                runtime.consumer(
                    of: QueueName.orderInvoiceCreated,
                    handler: InvoiceCreatedHandler(repository: repository, admission: admission)),
                runtime.consumer(
                    of: QueueName.orderCustomerEvents, handler: CustomerEventsHandler(repository: repository)),
                runtime.consumer(
                    of: QueueName.orderInvoicePayments, handler: InvoicePaymentsHandler(repository: repository)),
            ],
            background: [feed],
            openAPI: PackageResources.openapi_json,
            routes: { router, access in
                OrderRoutes(
                    repository: repository, directory: dependencies.directory,
                    maxBodyBytes: configuration.service.maxBodyBytes, admission: admission,
                    logger: runtime.logger
                ).add(to: router, access: access)
                live.add(to: router, access: access)
            })
    }

    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    package static func run(_ configuration: OrderServiceConfiguration) async throws {
        try await build(configuration, dependencies: .live(configuration)).run()
    }
}
