package import ServiceKit

/// customer-service's configuration: the common variables plus `SEED_CUSTOMERS` and
/// `COUNT_PUBLISH_INTERVAL_MS`.
package struct CustomerServiceConfiguration: Sendable {
    /// `PORT` (default 8081), `AMQP_URL`, `DATABASE_URL` (default database `customers`), ….
    package var service: ServiceConfiguration
    /// `SEED_CUSTOMERS`: register three customers on first start. Default true.
    package var seedCustomers: Bool
    /// `COUNT_PUBLISH_INTERVAL_MS`: how often `orders_count` changes are announced as
    /// `customer.updated` (one per changed customer; see ``CountChangePublisher``). Default 1000.
    package var countPublishInterval: Duration

    /// Reads the environment.
    package init(environment: EnvironmentReader = EnvironmentReader()) throws {
        service = try ServiceConfiguration(
            serviceName: "customer-service", defaultPort: 8081, defaultDatabase: "customers", environment: environment)
        seedCustomers = try environment.bool("SEED_CUSTOMERS", default: true)
        countPublishInterval = .milliseconds(
            try environment.int("COUNT_PUBLISH_INTERVAL_MS", default: 1000, in: 10...3_600_000))
    }
}
