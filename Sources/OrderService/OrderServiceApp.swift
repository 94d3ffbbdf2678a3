import Contracts
import Postgres
import ServiceKit

/// order-service: orders over HTTP, `order.created` and `order.cancelled` through the outbox,
/// invoice and payment status (and cancellation of orders whose invoice is overdue) and the
/// customer replica from events, and the live view of every order's changes.
public enum OrderServiceApp {
    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    public static func run(_ configuration: OrderServiceConfiguration) async throws {
        let runtime = try ServiceRuntime(configuration: configuration.service)
        let repository = PostgresOrderRepository(client: runtime.database, stamp: configuration.service.eventStamp)
        let directory = HTTPCustomerDirectory(baseURL: configuration.customerServiceURL, timeout: configuration.customerLookupTimeout)
        let feed = OrderChangeFeed(
            repository: repository, listener: runtime.database.listen([OrderChangeFeed.channel]), readiness: runtime.readiness,
            configuration: configuration.feed,
            logger: runtime.logger)
        let admission = OrderAdmission(configuration: configuration.admission)
        let live = LiveRoutes(
            repository: repository, feed: feed, queues: QueueHealth(broker: runtime.broker), heartbeat: configuration.streamHeartbeat,
            maxStreamsPerCaller: configuration.streamsPerCaller)
        try await runtime.run(
            migrations: OrderMigrations.all,
            consumers: [
                runtime.consumer(of: QueueName.orderInvoiceCreated, handler: InvoiceCreatedHandler(repository: repository, admission: admission)),
                runtime.consumer(of: QueueName.orderCustomerEvents, handler: CustomerEventsHandler(repository: repository)),
                runtime.consumer(of: QueueName.orderInvoicePayments, handler: InvoicePaymentsHandler(repository: repository)),
            ],
            background: [feed],
            openAPI: PackageResources.openapi_json,
            routes: { router, access in
                OrderRoutes(
                    repository: repository, directory: directory, maxBodyBytes: configuration.service.maxBodyBytes, admission: admission,
                    logger: runtime.logger
                ).add(to: router, access: access)
                live.add(to: router, access: access)
            })
    }
}
