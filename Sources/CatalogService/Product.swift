package import Contracts
package import Foundation

/// A product of the catalog, with its stock.
///
/// Stock is two counts: `onHand`, the units in the store room, and `reserved`, the units
/// promised to accepted orders that are neither cancelled nor paid yet. What may still be
/// promised is ``available`` = on hand − reserved, which every change keeps at zero or above:
/// a reservation that would take it below is refused whole (``StockLedger``), and a stock
/// count that would leave less on hand than is reserved is refused too.
package struct Product: Sendable, Hashable {
    /// An internal id, time-ordered: what pages of products are cursored by.
    package var id: UUID
    /// The key a client orders by.
    package var sku: String
    /// What the invoice line says.
    package var name: String
    /// The price of one unit.
    package var price: Money
    /// Units in the store room.
    package var onHand: Int
    /// Units promised to accepted, unpaid, uncancelled orders.
    package var reserved: Int
    /// Units ordered from the supplier and not received yet (open purchase orders).
    package var onOrder: Int
    /// At or below this availability the product is reordered.
    package var reorderPoint: Int
    /// How many units a reorder asks the supplier for.
    package var reorderQuantity: Int
    /// Whether it may be ordered.
    package var active: Bool
    /// Grows by one with every change announced (`product.created` is version 1).
    package var version: Int
    /// When it was added.
    package var createdAt: Date
    /// When it last changed.
    package var updatedAt: Date

    /// Creates a product.
    package init(
        id: UUID, sku: String, name: String, price: Money, onHand: Int, reserved: Int = 0, onOrder: Int = 0,
        reorderPoint: Int,
        reorderQuantity: Int, active: Bool = true, version: Int = 1, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.sku = sku
        self.name = name
        self.price = price
        self.onHand = onHand
        self.onOrder = onOrder
        self.reserved = reserved
        self.reorderPoint = reorderPoint
        self.reorderQuantity = reorderQuantity
        self.active = active
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Units that may still be reserved: on hand − reserved (never negative).
    package var available: Int { onHand - reserved }

    /// Whether its availability is at or below its reorder point.
    package var needsReorder: Bool { available <= reorderPoint }

    /// The product as `product.created` / `product.updated` carry it.
    package var snapshot: ProductSnapshot {
        ProductSnapshot(
            sku: sku, name: name, price: price, active: active, available: available, version: version,
            updatedAt: updatedAt, reserved: reserved, onOrder: onOrder)
    }
}
