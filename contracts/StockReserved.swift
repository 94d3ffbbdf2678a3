public import Foundation

/// `stock.reserved`: catalog-service reserved every line of an order. It carries the order as
/// `order.created` did, so invoice-service invoices it from this event alone: an order is
/// invoiced only once its stock is held, and so can never be paid before.
public struct StockReserved: EventPayload {
    public static var eventType: EventType { .stockReserved }

    /// The order.
    public var orderID: UUID
    /// Who placed it.
    public var customerID: UUID
    /// Its lines, as `order.created` carried them (prices as order-service recorded them).
    public var items: [OrderLine]
    /// The sum of the lines' totals.
    public var total: Money
    /// When order-service accepted it.
    public var createdAt: Date
    /// When catalog-service reserved its stock.
    public var reservedAt: Date

    /// Creates the payload.
    public init(orderID: UUID, customerID: UUID, items: [OrderLine], total: Money, createdAt: Date, reservedAt: Date) {
        self.orderID = orderID
        self.customerID = customerID
        self.items = items
        self.total = total
        self.createdAt = createdAt
        self.reservedAt = reservedAt
    }

    /// The reservation of `order`, made at `time`.
    public init(_ order: OrderCreated, at time: Date) {
        self.init(
            orderID: order.orderID, customerID: order.customerID, items: order.items, total: order.total,
            createdAt: order.createdAt, reservedAt: time)
    }

    /// The order as `order.created` announced it.
    public var order: OrderCreated {
        OrderCreated(orderID: orderID, customerID: customerID, items: items, total: total, createdAt: createdAt)
    }

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case items, total
        case createdAt = "created_at"
        case reservedAt = "reserved_at"
    }
}
