import Contracts
package import Foundation

/// An order catalog-service places with the supplier for one product's `reorder_quantity`,
/// once its availability falls to its reorder point. One is open per product at most.
package struct PurchaseOrder: Sendable, Hashable {
    /// Where it is.
    package enum State: String, Sendable {
        /// Not accepted by the supplier yet: placed (again) at ``PurchaseOrder/nextAttemptAt``.
        case open
        /// Accepted by the supplier: its deliveries are awaited.
        case placed
        /// Every unit received.
        case received
    }

    /// Its id, time-ordered: also its idempotency key at the supplier.
    package var id: UUID
    /// The product.
    package var sku: String
    /// Units ordered.
    package var quantity: Int
    /// Units received so far.
    package var received: Int
    /// Where it is.
    package var state: State
    /// Attempts to place it that failed.
    package var attempts: Int
    /// When it is next tried (placed, or its deliveries asked for).
    package var nextAttemptAt: Date
    /// Why the last attempt failed.
    package var lastError: String?
    /// When the supplier accepted it.
    package var placedAt: Date?
    /// When it was opened.
    package var createdAt: Date
    /// When it last changed.
    package var updatedAt: Date

    /// Creates a purchase order.
    package init(
        id: UUID, sku: String, quantity: Int, received: Int = 0, state: State = .open, attempts: Int = 0,
        nextAttemptAt: Date, lastError: String? = nil, placedAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.sku = sku
        self.quantity = quantity
        self.received = received
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.placedAt = placedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Units still to come.
    package var onOrder: Int { state == .received ? 0 : quantity - received }

    /// The purchase order `product` needs at `time`, if it needs one: its availability is at
    /// or below its reorder point and it reorders a positive quantity. (Whether one is open
    /// already is the store's to say.)
    package static func needed(for product: Product, at time: Date) -> PurchaseOrder? {
        guard product.active, product.reorderQuantity > 0, product.needsReorder else { return nil }
        return PurchaseOrder(
            id: UUID.timeOrdered(at: time), sku: product.sku, quantity: product.reorderQuantity, nextAttemptAt: time,
            createdAt: time, updatedAt: time)
    }

    /// The wait before attempt `attempts + 1` after `attempts` failures: 1 s doubling to 5 min.
    package static func backoff(after attempts: Int) -> Duration {
        .seconds(min(300, 1 << min(max(attempts - 1, 0), 9)))
    }
}
