public import Foundation

/// `invoice.created`: invoice-service issued the one invoice of an order.
public struct InvoiceCreated: EventPayload {
    public static var eventType: EventType { .invoiceCreated }

    /// The invoice.
    public var invoiceID: UUID
    /// Its gapless number, `INV-<year>-<6 digits>`.
    public var invoiceNumber: String
    /// The invoiced order.
    public var orderID: UUID
    /// The billed customer.
    public var customerID: UUID
    /// The order's lines.
    public var lines: [OrderLine]
    /// Sum of the lines.
    public var subtotal: Money
    /// The tax rate applied, e.g. `0.20`.
    public var taxRate: Decimal
    /// `subtotal × tax_rate`, rounded to cents.
    public var tax: Money
    /// `subtotal + tax`.
    public var total: Money
    /// When the invoice was issued.
    public var issuedAt: Date
    /// When payment is due: an order whose invoice is unpaid then is cancelled. Added in the
    /// same data version (additive): absent from invoices issued before it existed.
    public var dueAt: Date?

    /// Creates the payload.
    public init(
        invoiceID: UUID, invoiceNumber: String, orderID: UUID, customerID: UUID, lines: [OrderLine],
        subtotal: Money, taxRate: Decimal, tax: Money, total: Money, issuedAt: Date, dueAt: Date? = nil
    ) {
        self.invoiceID = invoiceID
        self.invoiceNumber = invoiceNumber
        self.orderID = orderID
        self.customerID = customerID
        self.lines = lines
        self.subtotal = subtotal
        self.taxRate = taxRate
        self.tax = tax
        self.total = total
        self.issuedAt = issuedAt
        self.dueAt = dueAt
    }

    enum CodingKeys: String, CodingKey {
        case invoiceID = "invoice_id"
        case invoiceNumber = "invoice_number"
        case orderID = "order_id"
        case customerID = "customer_id"
        case lines, subtotal
        case taxRate = "tax_rate"
        case tax, total
        case issuedAt = "issued_at"
        case dueAt = "due_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        invoiceID = try c.decode(UUID.self, forKey: .invoiceID)
        invoiceNumber = try c.decode(String.self, forKey: .invoiceNumber)
        orderID = try c.decode(UUID.self, forKey: .orderID)
        customerID = try c.decode(UUID.self, forKey: .customerID)
        lines = try c.decode([OrderLine].self, forKey: .lines)
        subtotal = try c.decode(Money.self, forKey: .subtotal)
        // The rate travels as a string for the same reason money does.
        taxRate = try c.decode(Money.self, forKey: .taxRate).amount
        tax = try c.decode(Money.self, forKey: .tax)
        total = try c.decode(Money.self, forKey: .total)
        issuedAt = try c.decode(Date.self, forKey: .issuedAt)
        dueAt = try c.decodeIfPresent(Date.self, forKey: .dueAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(invoiceID, forKey: .invoiceID)
        try c.encode(invoiceNumber, forKey: .invoiceNumber)
        try c.encode(orderID, forKey: .orderID)
        try c.encode(customerID, forKey: .customerID)
        try c.encode(lines, forKey: .lines)
        try c.encode(subtotal, forKey: .subtotal)
        try c.encode(taxRate.description, forKey: .taxRate)
        try c.encode(tax, forKey: .tax)
        try c.encode(total, forKey: .total)
        try c.encode(issuedAt, forKey: .issuedAt)
        try c.encodeIfPresent(dueAt, forKey: .dueAt)
    }
}
