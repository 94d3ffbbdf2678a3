public import Foundation

/// `stock.replenished`: goods from the supplier arrived for a purchase order (all of it, or a
/// part), and are on hand.
public struct StockReplenished: EventPayload {
    public static var eventType: EventType { .stockReplenished }

    /// The product.
    public var sku: String
    /// The purchase order delivered against.
    public var purchaseOrderID: UUID
    /// Units this delivery added.
    public var quantity: Int
    /// Units on hand afterwards.
    public var onHand: Int
    /// Units available afterwards (on hand − reserved).
    public var available: Int
    /// When they were received.
    public var replenishedAt: Date

    /// Creates the payload.
    public init(sku: String, purchaseOrderID: UUID, quantity: Int, onHand: Int, available: Int, replenishedAt: Date) {
        self.sku = sku
        self.purchaseOrderID = purchaseOrderID
        self.quantity = quantity
        self.onHand = onHand
        self.available = available
        self.replenishedAt = replenishedAt
    }

    enum CodingKeys: String, CodingKey {
        case sku, quantity, available
        case purchaseOrderID = "purchase_order_id"
        case onHand = "on_hand"
        case replenishedAt = "replenished_at"
    }
}
