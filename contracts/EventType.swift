/// The name of an event, which is also its AMQP routing key, and the exchange it is published to.
///
/// Services never spell these strings themselves: they use the constants below, so a rename is
/// one change here and a compile error everywhere it matters.
public struct EventType: Hashable, Sendable, CustomStringConvertible {
    /// The CloudEvents `type`, the AMQP `type` property and the routing key, e.g. `order.created`.
    public let name: String
    /// The topic exchange the event is published to.
    public let exchange: String

    /// Creates an event type; the known ones are the static members.
    public init(name: String, exchange: String) {
        self.name = name
        self.exchange = exchange
    }

    public var description: String { name }

    /// An order was accepted by order-service.
    public static let orderCreated = EventType(name: "order.created", exchange: ExchangeName.orders)
    /// invoice-service issued the invoice of an order.
    public static let invoiceCreated = EventType(name: "invoice.created", exchange: ExchangeName.invoices)
    /// customer-service registered a customer.
    public static let customerCreated = EventType(name: "customer.created", exchange: ExchangeName.customers)
    /// A customer's details or `orders_count` changed.
    public static let customerUpdated = EventType(name: "customer.updated", exchange: ExchangeName.customers)
    /// order-service cancelled an order (at the customer's request, or its invoice overdue).
    public static let orderCancelled = EventType(name: "order.cancelled", exchange: ExchangeName.orders)
    /// invoice-service captured the payment of an invoice.
    public static let invoicePaid = EventType(name: "invoice.paid", exchange: ExchangeName.invoices)
    /// invoice-service voided the invoice of a cancelled order (its number stays used).
    public static let invoiceVoided = EventType(name: "invoice.voided", exchange: ExchangeName.invoices)
    /// invoice-service refunded a captured payment it could not keep (its invoice void, or paid
    /// by another payment).
    public static let invoiceRefunded = EventType(name: "invoice.refunded", exchange: ExchangeName.invoices)
    /// invoice-service closed an invoice unpaid at its due date.
    public static let invoiceOverdue = EventType(name: "invoice.overdue", exchange: ExchangeName.invoices)

    /// catalog-service added a product.
    public static let productCreated = EventType(name: "product.created", exchange: ExchangeName.catalog)
    /// A product's price, name, activity or availability changed.
    public static let productUpdated = EventType(name: "product.updated", exchange: ExchangeName.catalog)

    /// catalog-service reserved every line of an order: the order may be invoiced.
    public static let stockReserved = EventType(name: "stock.reserved", exchange: ExchangeName.catalog)
    /// catalog-service could not reserve an order's lines (it reserved none of them).
    public static let stockRejected = EventType(name: "stock.rejected", exchange: ExchangeName.catalog)
    /// Goods from the supplier arrived for a purchase order.
    public static let stockReplenished = EventType(name: "stock.replenished", exchange: ExchangeName.catalog)

    /// Every event type Mercato publishes.
    public static let all: [EventType] = [
        .orderCreated, .invoiceCreated, .customerCreated, .customerUpdated, .orderCancelled, .invoicePaid,
        .invoiceVoided, .invoiceRefunded, .invoiceOverdue, .productCreated, .productUpdated, .stockReserved,
        .stockRejected, .stockReplenished,
    ]

    /// The known event type with this name, if any.
    public static func named(_ name: String) -> EventType? {
        all.first { $0.name == name }
    }
}
