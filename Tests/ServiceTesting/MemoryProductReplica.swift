package import Contracts
import OrderService
package import ServiceKit

/// order-service's product replica in memory, for unit tests; it passes the same contract
/// suite as `PostgresProductReplica`.
package actor MemoryProductReplica: ProductReplica {
    private var products: [String: ProductSnapshot] = [:]
    private var inbox: Set<String> = []

    /// An empty replica.
    package init() {}

    package func products(skus: [String]) async throws -> [String: ProductSnapshot] {
        products.filter { skus.contains($0.key) }
    }

    package func saveProducts(_ snapshots: [ProductSnapshot], events: [IncomingEvent]) async throws {
        // From events: only those not seen before. From an HTTP lookup: all.
        let applicable =
            events.isEmpty ? snapshots : zip(events, snapshots).filter { inbox.insert($0.0.id).inserted }.map(\.1)
        for product in applicable where (products[product.sku]?.version ?? .min) < product.version {
            products[product.sku] = product
        }
    }
}
