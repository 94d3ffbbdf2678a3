import Contracts
import Foundation
import Logging
import ServiceKit

/// customer-service: customers over HTTP, `orders_count` from `order.created` and
/// `order.cancelled`, its changes announced once per interval.
public enum CustomerServiceApp {
    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    public static func run(_ configuration: CustomerServiceConfiguration) async throws {
        let runtime = try ServiceRuntime(configuration: configuration.service)
        let repository = PostgresCustomerRepository(client: runtime.database, stamp: configuration.service.eventStamp)
        let logger = runtime.logger
        let seed = configuration.seedCustomers
        try await runtime.run(
            migrations: CustomerMigrations.all,
            afterMigrations: { _ in
                guard seed else { return }
                if try await repository.seedIfEmpty(CustomerSeeds.customers, ids: CustomerSeeds.ids, at: Date()) {
                    logger.info("seeded customers", metadata: ["customers.count": "\(CustomerSeeds.customers.count)"])
                }
            },
            consumers: [
                runtime.consumer(of: QueueName.customerOrderCreated, handler: OrderCountingHandler(repository: repository)),
                runtime.consumer(of: QueueName.customerOrderCancelled, handler: OrderCountingHandler(repository: repository)),
            ],
            background: [
                CountChangePublisher(
                    repository: repository, readiness: runtime.readiness, interval: configuration.countPublishInterval, logger: runtime.logger)
            ],
            openAPI: PackageResources.openapi_json,
            routes: { CustomerRoutes(repository: repository, maxBodyBytes: configuration.service.maxBodyBytes).add(to: $0, access: $1) })
    }
}
