public import Foundation

/// `order.created`: order-service accepted an order. customer-service counts it and
/// catalog-service reserves its stock (then `stock.reserved` has invoice-service invoice it).
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

    /// Why no consumer may apply this order, if it is malformed: no lines, a line of no units
    /// or one whose total is not quantity × price, or lines that do not make the total. What
    /// order-service publishes never is; a forged or corrupted event is dead-lettered by the
    /// first consumer that sees it.
    public var defect: String? {
        guard !items.isEmpty else { return "order \(orderID) has no items" }
        if let line = items.first(where: { !(1...10_000).contains($0.quantity) }) {
            return "order \(orderID) asks for \(line.quantity) of \(line.sku ?? line.productName)"
        }
        let sum = items.map(\.lineTotal).reduce(Money.zero, +)
        guard items.allSatisfy({ $0.lineTotal == $0.unitPrice * $0.quantity }), sum == total else {
            return "order \(orderID) does not add up: its lines make \(sum), its total says \(total)"
        }
        return nil
    }
}

/// One line of an order or invoice: `quantity` × `unit_price` = `line_total`.
public struct OrderLine: Codable, Sendable, Hashable {
    /// The catalog's key of the product (since the AsyncAPI document 1.2.0; absent on lines of
    /// orders placed before the catalog, whose names and prices the client gave).
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
