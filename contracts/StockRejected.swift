public import Foundation

/// `stock.rejected`: catalog-service could not reserve an order's lines, so it reserved none of
/// them. order-service cancels the order with reason `out_of_stock`.
public struct StockRejected: EventPayload {
    public static var eventType: EventType { .stockRejected }

    /// A line that could not be reserved.
    public struct Shortage: Codable, Sendable, Hashable {
        /// The product.
        public var sku: String
        /// Units the order asked for.
        public var requested: Int
        /// Units available when it was refused (0 for an unknown or inactive product).
        public var available: Int

        /// Creates the shortage.
        public init(sku: String, requested: Int, available: Int) {
            self.sku = sku
            self.requested = requested
            self.available = available
        }
    }

    /// The order.
    public var orderID: UUID
    /// Who placed it.
    public var customerID: UUID
    /// Every short line, by SKU.
    public var shortages: [Shortage]
    /// When catalog-service refused it.
    public var rejectedAt: Date

    /// Creates the payload.
    public init(orderID: UUID, customerID: UUID, shortages: [Shortage], rejectedAt: Date) {
        self.orderID = orderID
        self.customerID = customerID
        self.shortages = shortages
        self.rejectedAt = rejectedAt
    }

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case shortages
        case rejectedAt = "rejected_at"
    }
}
