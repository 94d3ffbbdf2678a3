import Contracts
import Foundation
package import ServiceKit

/// Cancels the orders whose stock catalog-service could not reserve: `stock.rejected` from
/// `order-service.stock-rejected`, through the order's one cancellation path (reason
/// `out_of_stock`), so `order.cancelled` gives back its `orders_count` and voids an invoice.
/// Cancelling is idempotent, so a redelivery changes nothing.
package struct StockRejectedHandler: EventHandler {
    private let store: any OrderStore

    /// Creates the handler over `store`.
    package init(store: any OrderStore) {
        self.store = store
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(StockRejected.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        for event in events {
            let rejection = try event.decode(StockRejected.self).data
            let id = rejection.orderID.uuidString.lowercased()
            guard
                let result = try await store.cancel(
                    rejection.orderID, reason: .outOfStock, at: rejection.rejectedAt, traceparent: event.traceparent)
            else {
                // order.created is committed before it is published: a forged event, or a
                // database restored from an older backup. Retried, then dead-lettered.
                throw OrderStoreError(.unknownOrder, "stock rejected for order \(id), which is not stored")
            }
            if result.outcome == .refused {
                // An order is invoiced only after its stock is reserved, so a rejected one
                // cannot have been paid: if it was, an operator must look.
                throw PoisonMessage("order \(id) is paid, yet catalog-service rejected its stock")
            }
        }
    }
}
