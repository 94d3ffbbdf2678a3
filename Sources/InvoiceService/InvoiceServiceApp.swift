import Contracts
import ServiceKit

/// invoice-service: one invoice per `order.created`, `invoice.created` through the outbox.
public enum InvoiceServiceApp {
    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    public static func run(_ configuration: InvoiceServiceConfiguration) async throws {
        let runtime = try ServiceRuntime(configuration: configuration.service)
        let repository = PostgresInvoiceRepository(client: runtime.database, stamp: configuration.service.eventStamp)
        try await runtime.run(
            migrations: InvoiceMigrations.all,
            consumers: [
                runtime.consumer(
                    of: QueueName.invoiceOrderCreated, handler: InvoicingHandler(repository: repository, taxRate: configuration.taxRate))
            ],
            openAPI: PackageResources.openapi_json,
            routes: { InvoiceRoutes(repository: repository).add(to: $0, access: $1) })
    }
}
