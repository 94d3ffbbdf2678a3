import Contracts
import Foundation
import Logging
package import ServiceKit

/// customer-service: customers over HTTP, `orders_count` from `order.created` and
/// `order.cancelled`, its changes announced once per interval.
package enum CustomerServiceApp {
    /// What customer-service is built on: the common dependencies and its storage.
    package struct Dependencies: Sendable {
        /// The database, broker, outbox and logger.
        package var service: ServiceDependencies
        /// Customers, their order tallies and the inbox.
        package var repository: any CustomerRepository

        /// Dependencies as given.
        package init(service: ServiceDependencies, repository: any CustomerRepository) {
            self.service = service
            self.repository = repository
        }

        /// The real ones: PostgreSQL and RabbitMQ.
        package static func live(_ configuration: CustomerServiceConfiguration) throws -> Dependencies {
            let service = try ServiceDependencies.live(configuration.service)
            return Dependencies(
                service: service,
                repository: PostgresCustomerRepository(
                    client: service.database, stamp: configuration.service.eventStamp))
        }
    }

    /// Builds the service from `configuration` over `dependencies`.
    package static func build(_ configuration: CustomerServiceConfiguration, dependencies: Dependencies) async throws
        -> ServiceApplication
    {
        let runtime = ServiceRuntime(configuration: configuration.service, dependencies: dependencies.service)
        let repository = dependencies.repository
        let logger = runtime.logger
        let seed = configuration.seedCustomers
        return try await runtime.application(
            migrations: CustomerMigrations.all,
            afterMigrations: { _ in
                guard seed else { return }
                if try await repository.seedIfEmpty(CustomerSeeds.customers, ids: CustomerSeeds.ids, at: Date()) {
                    logger.info("seeded customers", metadata: ["customers.count": "\(CustomerSeeds.customers.count)"])
                }
            },
            consumers: [
                runtime.consumer(
                    of: QueueName.customerOrderCreated, handler: OrderCountingHandler(repository: repository)),
                runtime.consumer(
                    of: QueueName.customerOrderCancelled, handler: OrderCountingHandler(repository: repository)),
            ],
            background: [
                CountChangePublisher(
                    repository: repository, readiness: runtime.readiness, interval: configuration.countPublishInterval,
                    logger: runtime.logger)
            ],
            openAPI: PackageResources.openapi_json,
            routes: {
                CustomerRoutes(repository: repository, maxBodyBytes: configuration.service.maxBodyBytes).add(
                    to: $0, access: $1)
            })
    }

    /// Runs the service with `configuration` until SIGTERM or SIGINT.
    package static func run(_ configuration: CustomerServiceConfiguration) async throws {
        try await build(configuration, dependencies: .live(configuration)).run()
    }
}
