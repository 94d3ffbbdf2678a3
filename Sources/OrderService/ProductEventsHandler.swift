import Contracts
package import ServiceKit

/// Keeps the product replica: `product.created` and `product.updated` from
/// `order-service.product-events`, applied only when newer than the replica's copy, so
/// duplicated or reordered events never move it backwards.
package struct ProductEventsHandler: EventHandler {
    private let replica: any ProductReplica

    /// Creates the handler over `replica`.
    package init(replica: any ProductReplica) {
        self.replica = replica
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(ProductCreated.self), AcceptedEvent(ProductUpdated.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        let products = try events.map { event in
            event.type == EventType.productCreated.name
                ? try event.decode(ProductCreated.self).data.product
                : try event.decode(ProductUpdated.self).data.product
        }
        try await replica.saveProducts(products, events: events)
    }
}
