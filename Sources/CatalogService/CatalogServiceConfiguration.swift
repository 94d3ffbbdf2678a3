package import Foundation
package import ServiceKit

/// catalog-service's configuration: the common variables plus `SEED_PRODUCTS`, the
/// replenisher's (`REPLENISH_INTERVAL_MS`, `SUPPLIER_TIMEOUT_MS`, `SUPPLIER_CIRCUIT_*`) and the
/// simulated supplier's (`SUPPLIER_LATENCY_MS`, `SUPPLIER_FAILURE_RATE`, `SUPPLIER_DELIVERY_MS`,
/// `SUPPLIER_PARTIAL_DELIVERIES`).
package struct CatalogServiceConfiguration: Sendable {
    /// `PORT` (default 8083), `AMQP_URL`, `DATABASE_URL` (default database `catalog`), ….
    package var service: ServiceConfiguration
    /// `SEED_PRODUCTS`: add a few products on first start, for the walkthrough. Default true.
    package var seedProducts: Bool
    /// How purchase orders are placed and received.
    package var replenisher: Replenisher.Configuration
    /// How the simulated supplier behaves.
    package var supplier: SimulatedSupplier.Configuration

    /// Reads the environment.
    package init(environment: EnvironmentReader = EnvironmentReader()) throws {
        service = try ServiceConfiguration(
            serviceName: "catalog-service", defaultPort: 8083, defaultDatabase: "catalog", environment: environment)
        seedProducts = try environment.bool("SEED_PRODUCTS", default: true)
        replenisher = Replenisher.Configuration()
        replenisher.interval = .milliseconds(
            try environment.int("REPLENISH_INTERVAL_MS", default: 1000, in: 10...3_600_000))
        replenisher.deliveryPoll = replenisher.interval
        replenisher.timeout = .milliseconds(try environment.int("SUPPLIER_TIMEOUT_MS", default: 2000, in: 1...600_000))
        replenisher.breaker.failureThreshold = try environment.int(
            "SUPPLIER_CIRCUIT_FAILURES", default: 5, in: 1...1000)
        replenisher.breaker.openDuration = .milliseconds(
            try environment.int("SUPPLIER_CIRCUIT_OPEN_MS", default: 30_000, in: 1...3_600_000))
        supplier = SimulatedSupplier.Configuration()
        supplier.latency = .milliseconds(try environment.int("SUPPLIER_LATENCY_MS", default: 50, in: 0...600_000))
        supplier.failureRate =
            NSDecimalNumber(
                decimal: try environment.decimal("SUPPLIER_FAILURE_RATE", default: 0, in: 0...1)
            ).doubleValue
        supplier.deliveryDelay = .milliseconds(
            try environment.int("SUPPLIER_DELIVERY_MS", default: 5000, in: 0...86_400_000))
        supplier.partialDeliveries = try environment.bool("SUPPLIER_PARTIAL_DELIVERIES", default: true)
    }
}
