import Contracts
package import ServiceKit

/// Keeps the product replica: `product.created` and `product.updated` from
/// `order-service.product-events`, applied only when newer than the replica's copy, so
/// duplicated or reordered events never move it backwards; and `stock.replenished`, counted
/// once per event for the live page.
package struct ProductEventsHandler: EventHandler {
    private let replica: any ProductReplica

    /// Creates the handler over `replica`.
    package init(replica: any ProductReplica) {
        self.replica = replica
    }

    package var accepts: [AcceptedEvent] {
        [AcceptedEvent(ProductCreated.self), AcceptedEvent(ProductUpdated.self), AcceptedEvent(StockReplenished.self)]
    }

    package func apply(_ events: [IncomingEvent]) async throws {
        let deliveries = events.filter { $0.type == EventType.stockReplenished.name }
        let snapshots = events.filter { $0.type != EventType.stockReplenished.name }
        let products = try snapshots.map { event in
            event.type == EventType.productCreated.name
                ? try event.decode(ProductCreated.self).data.product
                : try event.decode(ProductUpdated.self).data.product
        }
        if !snapshots.isEmpty { try await replica.saveProducts(products, events: snapshots) }
        if !deliveries.isEmpty {
            let units = try deliveries.map { event in
                let delivery = try event.decode(StockReplenished.self).data
                return (sku: delivery.sku, units: delivery.quantity)
            }
            try await replica.recordReplenishments(units, events: deliveries)
        }
    }
}
