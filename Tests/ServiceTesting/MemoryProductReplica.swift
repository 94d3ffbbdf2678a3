package import Contracts
package import OrderService
package import ServiceKit

/// order-service's product replica in memory, for unit tests; it passes the same contract
/// suite as `PostgresProductReplica`.
package actor MemoryProductReplica: ProductReplica {
    private var products: [String: ProductSnapshot] = [:]
    private var inbox: Set<String> = []
    private var replenished: [String: Int] = [:]

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

    package func recordReplenishments(_ deliveries: [(sku: String, units: Int)], events: [IncomingEvent])
        async throws
    {
        for (event, delivery) in zip(events, deliveries) where inbox.insert(event.id).inserted {
            if products[delivery.sku] != nil { replenished[delivery.sku, default: 0] += delivery.units }
        }
    }

    package func stock(limit: Int) async throws -> [StockLevel] {
        products.values.sorted { $0.sku < $1.sku }.prefix(limit).map {
            StockLevel(
                sku: $0.sku, name: $0.name, available: $0.available, reserved: $0.reserved, onOrder: $0.onOrder,
                replenished: replenished[$0.sku, default: 0])
        }
    }
}
