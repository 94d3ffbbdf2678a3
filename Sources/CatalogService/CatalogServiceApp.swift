import Contracts
import Foundation
import Logging
package import ServiceKit

/// catalog-service: products and their stock over HTTP, announced as `product.created` and
/// `product.updated`; every order's stock reserved (`stock.reserved`, `stock.rejected`),
/// released when it is cancelled and sold when it is paid; stock bought from the supplier
/// when a product runs low (`stock.replenished`).
package enum CatalogServiceApp {
    /// What catalog-service is built on: the common dependencies and its storage.
    package struct Dependencies: Sendable {
        /// The database, broker, outbox and logger.
        package var service: ServiceDependencies
        /// The products.
        package var products: any ProductStore
        /// The reservations.
        package var stock: any StockStore
        /// The purchase orders.
        package var purchaseOrders: any PurchaseOrderStore
        /// The supplier; `nil`: the simulated one, as configured.
        package var supplier: (any Supplier)?

        /// Dependencies as given.
        package init(
            service: ServiceDependencies, products: any ProductStore, stock: any StockStore,
            purchaseOrders: any PurchaseOrderStore, supplier: (any Supplier)? = nil
        ) {
            self.service = service
            self.products = products
            self.stock = stock
            self.purchaseOrders = purchaseOrders
            self.supplier = supplier
        }

        /// The real ones: PostgreSQL and RabbitMQ.
        package static func live(_ configuration: CatalogServiceConfiguration) throws -> Dependencies {
            let service = try ServiceDependencies.live(configuration.service)
            return Dependencies(
                service: service,
                products: PostgresProductStore(client: service.database, stamp: configuration.service.eventStamp),
                stock: PostgresStockStore(client: service.database, stamp: configuration.service.eventStamp),
                purchaseOrders: PostgresPurchaseOrderStore(
                    client: service.database, stamp: configuration.service.eventStamp))
        }
    }

    /// Builds the service from `configuration` over `dependencies`.
    package static func build(_ configuration: CatalogServiceConfiguration, dependencies: Dependencies) async throws
        -> ServiceApplication
    {
        let runtime = ServiceRuntime(configuration: configuration.service, dependencies: dependencies.service)
        let products = dependencies.products
        let logger = runtime.logger
        let seed = configuration.seedProducts
        return try await runtime.application(
            migrations: CatalogMigrations.all,
            afterMigrations: { _ in
                guard seed else { return }
                if try await products.seedIfEmpty(CatalogSeeds.products, at: Date()) {
                    logger.info("seeded products", metadata: ["products.count": "\(CatalogSeeds.products.count)"])
                }
            },
            consumers: [
                runtime.consumer(
                    of: QueueName.catalogOrderEvents, handler: StockEventsHandler.orderEvents(stock: dependencies.stock)
                ),
                runtime.consumer(
                    of: QueueName.catalogInvoicePaid, handler: StockEventsHandler.payments(stock: dependencies.stock)),
            ],
            background: [
                Replenisher(
                    store: dependencies.purchaseOrders,
                    supplier: dependencies.supplier ?? SimulatedSupplier(configuration: configuration.supplier),
                    configuration: configuration.replenisher, readiness: runtime.readiness, logger: runtime.logger)
            ],
            openAPI: PackageResources.openapi_json,
            routes: {
                CatalogRoutes(
                    store: products, purchaseOrders: dependencies.purchaseOrders,
                    maxBodyBytes: configuration.service.maxBodyBytes
                ).add(to: $0, access: $1)
            })
    }

    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    package static func run(_ configuration: CatalogServiceConfiguration) async throws {
        try await build(configuration, dependencies: .live(configuration)).run()
    }
}
