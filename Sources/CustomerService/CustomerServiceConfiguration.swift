public import ServiceKit

/// customer-service's configuration: the common variables plus `SEED_CUSTOMERS`.
public struct CustomerServiceConfiguration: Sendable {
    /// `PORT` (default 8081), `AMQP_URL`, `DATABASE_URL` (default database `customers`), ….
    public var service: ServiceConfiguration
    /// `SEED_CUSTOMERS`: register three customers on first start. Default true.
    public var seedCustomers: Bool

    /// Reads the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        service = try ServiceConfiguration(serviceName: "customer-service", defaultPort: 8081, defaultDatabase: "customers", environment: environment)
        seedCustomers = try environment.bool("SEED_CUSTOMERS", default: true)
    }
}
