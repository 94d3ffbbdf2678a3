import Contracts
package import Postgres
package import ServiceKit

/// order-service: orders over HTTP (named and priced by the catalog), `order.created` and
/// `order.cancelled` through the outbox (orders whose stock could not be reserved cancelled),
/// invoice and payment status (and cancellation of orders whose invoice is overdue) and the
/// customer replica from events, and the live view of every order's changes.
package enum OrderServiceApp {
    /// What order-service is built on: the common dependencies, its storage, the directory it
    /// looks customers up in, and what wakes its live view.
    package struct Dependencies: Sendable {
        /// The database, broker, outbox and logger.
        package var service: ServiceDependencies
        /// The orders.
        package var store: any OrderStore
        /// The customer replica.
        package var replica: any CustomerReplica
        /// The live view's change log.
        package var changeLog: any OrderChangeLog
        /// The product replica.
        package var products: any ProductReplica
        /// Where a customer missing from the replica is looked up.
        package var directory: any CustomerDirectory
        /// Where a product missing from the replica is looked up.
        package var catalog: any ProductDirectory
        /// Admission control in a known state (tests that need it shedding); `nil`: a new one
        /// from the configuration.
        package var admission: OrderAdmission?
        /// Wakes the live view when another replica writes (`LISTEN order_changes`); `nil`
        /// when no other writer shares the repository.
        package var changeListener: PostgresListener?

        /// Dependencies as given.
        package init(
            service: ServiceDependencies, store: any OrderStore, replica: any CustomerReplica,
            changeLog: any OrderChangeLog, products: any ProductReplica, directory: any CustomerDirectory,
            catalog: any ProductDirectory, admission: OrderAdmission? = nil, changeListener: PostgresListener? = nil
        ) {
            self.catalog = catalog
            self.products = products
            self.admission = admission
            self.service = service
            self.store = store
            self.replica = replica
            self.changeLog = changeLog
            self.directory = directory
            self.changeListener = changeListener
        }

        /// The real ones: PostgreSQL, RabbitMQ, customer-service over HTTP.
        package static func live(_ configuration: OrderServiceConfiguration) throws -> Dependencies {
            let service = try ServiceDependencies.live(configuration.service)
            return Dependencies(
                service: service,
                store: PostgresOrderStore(client: service.database, stamp: configuration.service.eventStamp),
                replica: PostgresCustomerReplica(client: service.database),
                changeLog: PostgresOrderChangeLog(client: service.database),
                products: PostgresProductReplica(client: service.database),
                directory: HTTPCustomerDirectory(
                    baseURL: configuration.customerServiceURL, timeout: configuration.customerLookupTimeout),
                catalog: HTTPProductDirectory(
                    baseURL: configuration.catalogServiceURL, timeout: configuration.catalogLookupTimeout),
                changeListener: service.database.listen([OrderChangeFeed.channel]))
        }
    }

    /// Builds the service from `configuration` over `dependencies`.
    package static func build(_ configuration: OrderServiceConfiguration, dependencies: Dependencies) async throws
        -> ServiceApplication
    {
        let runtime = ServiceRuntime(configuration: configuration.service, dependencies: dependencies.service)
        let feed = OrderChangeFeed(
            changeLog: dependencies.changeLog, listener: dependencies.changeListener, readiness: runtime.readiness,
            configuration: configuration.feed,
            logger: runtime.logger)
        let admission = dependencies.admission ?? OrderAdmission(configuration: configuration.admission)
        let refusals = StockRefusals()
        let live = LiveRoutes(
            changeLog: dependencies.changeLog, feed: feed, queues: QueueHealth(broker: runtime.broker),
            heartbeat: configuration.streamHeartbeat,
            maxStreamsPerCaller: configuration.streamsPerCaller)
        return try await runtime.application(
            migrations: OrderMigrations.all,
            consumers: [
                runtime.consumer(
                    of: QueueName.orderInvoiceCreated,
                    handler: InvoiceCreatedHandler(store: dependencies.store, admission: admission)),
                runtime.consumer(
                    of: QueueName.orderCustomerEvents, handler: CustomerEventsHandler(replica: dependencies.replica)),
                runtime.consumer(
                    of: QueueName.orderInvoicePayments, handler: InvoicePaymentsHandler(store: dependencies.store)),
                runtime.consumer(
                    of: QueueName.orderProductEvents, handler: ProductEventsHandler(replica: dependencies.products)),
                runtime.consumer(
                    of: QueueName.orderStockRejected, handler: StockRejectedHandler(store: dependencies.store)),
            ],
            background: [feed],
            openAPI: PackageResources.openapi_json,
            routes: { router, access in
                OrderRoutes(
                    store: dependencies.store, replica: dependencies.replica, directory: dependencies.directory,
                    pricing: OrderPricing(
                        replica: dependencies.products, directory: dependencies.catalog, refusals: refusals,
                        logger: runtime.logger),
                    maxBodyBytes: configuration.service.maxBodyBytes, admission: admission,
                    logger: runtime.logger
                ).add(to: router, access: access)
                live.add(to: router, access: access)
                StockRoutes(products: dependencies.products, orders: dependencies.store, refusals: refusals)
                    .add(to: router, access: access)
            })
    }

    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    package static func run(_ configuration: OrderServiceConfiguration) async throws {
        try await build(configuration, dependencies: .live(configuration)).run()
    }
}
