package import ServiceKit

/// catalog-service's configuration: the common variables plus `SEED_PRODUCTS`.
package struct CatalogServiceConfiguration: Sendable {
    /// `PORT` (default 8083), `AMQP_URL`, `DATABASE_URL` (default database `catalog`), ….
    package var service: ServiceConfiguration
    /// `SEED_PRODUCTS`: add a few products on first start, for the walkthrough. Default true.
    package var seedProducts: Bool

    /// Reads the environment.
    package init(environment: EnvironmentReader = EnvironmentReader()) throws {
        service = try ServiceConfiguration(
            serviceName: "catalog-service", defaultPort: 8083, defaultDatabase: "catalog", environment: environment)
        seedProducts = try environment.bool("SEED_PRODUCTS", default: true)
    }
}
