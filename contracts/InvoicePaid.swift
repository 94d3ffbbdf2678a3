public import Foundation

/// `invoice.paid`: invoice-service captured a payment of the invoice's whole amount.
/// order-service marks the order paid, unless it was cancelled meanwhile (then
/// `invoice.refunded` follows).
public struct InvoicePaid: EventPayload {
    public static var eventType: EventType { .invoicePaid }

    /// The invoice.
    public var invoiceID: UUID
    /// Its number.
    public var invoiceNumber: String
    /// The order it bills.
    public var orderID: UUID
    /// The billed customer.
    public var customerID: UUID
    /// The payment.
    public var paymentID: UUID
    /// What was captured: the invoice's total.
    public var amount: Money
    /// How it was paid, e.g. `card`.
    public var method: String
    /// When the payment was captured.
    public var paidAt: Date

    /// Creates the payload.
    public init(
        invoiceID: UUID, invoiceNumber: String, orderID: UUID, customerID: UUID, paymentID: UUID, amount: Money,
        method: String, paidAt: Date
    ) {
        self.invoiceID = invoiceID
        self.invoiceNumber = invoiceNumber
        self.orderID = orderID
        self.customerID = customerID
        self.paymentID = paymentID
        self.amount = amount
        self.method = method
        self.paidAt = paidAt
    }

    enum CodingKeys: String, CodingKey {
        case invoiceID = "invoice_id"
        case invoiceNumber = "invoice_number"
        case orderID = "order_id"
        case customerID = "customer_id"
        case paymentID = "payment_id"
        case amount, method
        case paidAt = "paid_at"
    }
}
