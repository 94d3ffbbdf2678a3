public import Foundation

/// `order.created`: order-service accepted an order. customer-service counts it and
/// invoice-service invoices it.
public struct OrderCreated: EventPayload {
    public static var eventType: EventType { .orderCreated }

    /// The order.
    public var orderID: UUID
    /// Who placed it.
    public var customerID: UUID
    /// What was ordered, in the order given.
    public var items: [OrderLine]
    /// The sum of the lines' totals.
    public var total: Money
    /// When order-service accepted it.
    public var createdAt: Date

    /// Creates the payload.
    public init(orderID: UUID, customerID: UUID, items: [OrderLine], total: Money, createdAt: Date) {
        self.orderID = orderID
        self.customerID = customerID
        self.items = items
        self.total = total
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case items, total
        case createdAt = "created_at"
    }
}

/// One line of an order or invoice: `quantity` × `unit_price` = `line_total`.
public struct OrderLine: Codable, Sendable, Hashable {
    /// The catalog's key of the product (since event version 1.1; absent on lines of orders
    /// placed before the catalog, whose names and prices the client gave).
    public var sku: String?
    /// The product's name as ordered.
    public var productName: String
    /// How many, at least 1.
    public var quantity: Int
    /// The price of one.
    public var unitPrice: Money
    /// `quantity × unit_price`.
    public var lineTotal: Money

    /// Creates a line; `lineTotal` is computed.
    public init(sku: String? = nil, productName: String, quantity: Int, unitPrice: Money) {
        self.sku = sku
        self.productName = productName
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.lineTotal = unitPrice * quantity
    }

    enum CodingKeys: String, CodingKey {
        case sku
        case productName = "product_name"
        case quantity
        case unitPrice = "unit_price"
        case lineTotal = "line_total"
    }
}
