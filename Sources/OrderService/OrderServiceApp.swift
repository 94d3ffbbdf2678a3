import Contracts
import ServiceKit

/// order-service: orders over HTTP, `order.created` through the outbox, invoice status and
/// the customer replica from events.
public enum OrderServiceApp {
    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    public static func run(_ configuration: OrderServiceConfiguration) async throws {
        let runtime = try ServiceRuntime(configuration: configuration.service)
        let repository = PostgresOrderRepository(client: runtime.database, stamp: configuration.service.eventStamp)
        let directory = HTTPCustomerDirectory(baseURL: configuration.customerServiceURL, timeout: configuration.customerLookupTimeout)
        try await runtime.run(
            migrations: OrderMigrations.all,
            consumers: [
                runtime.consumer(of: QueueName.orderInvoiceCreated, handler: InvoiceCreatedHandler(repository: repository)),
                runtime.consumer(of: QueueName.orderCustomerEvents, handler: CustomerEventsHandler(repository: repository)),
            ],
            openAPI: PackageResources.openapi_json,
            routes: { router, access in
                OrderRoutes(
                    repository: repository, directory: directory, maxBodyBytes: configuration.service.maxBodyBytes, logger: runtime.logger
                ).add(to: router, access: access)
            })
    }
}
