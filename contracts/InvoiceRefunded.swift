public import Foundation

/// `invoice.refunded`: a payment captured for an order that was cancelled (the payment and
/// the cancellation raced) was refunded in full: the compensation step of the order's saga.
public struct InvoiceRefunded: EventPayload {
    public static var eventType: EventType { .invoiceRefunded }

    /// The (void) invoice.
    public var invoiceID: UUID
    /// Its number.
    public var invoiceNumber: String
    /// The cancelled order.
    public var orderID: UUID
    /// The customer refunded.
    public var customerID: UUID
    /// The refunded payment.
    public var paymentID: UUID
    /// What was given back: everything captured.
    public var amount: Money
    /// When the provider confirmed the refund.
    public var refundedAt: Date

    /// Creates the payload.
    public init(invoiceID: UUID, invoiceNumber: String, orderID: UUID, customerID: UUID, paymentID: UUID, amount: Money, refundedAt: Date) {
        self.invoiceID = invoiceID
        self.invoiceNumber = invoiceNumber
        self.orderID = orderID
        self.customerID = customerID
        self.paymentID = paymentID
        self.amount = amount
        self.refundedAt = refundedAt
    }

    enum CodingKeys: String, CodingKey {
        case invoiceID = "invoice_id"
        case invoiceNumber = "invoice_number"
        case orderID = "order_id"
        case customerID = "customer_id"
        case paymentID = "payment_id"
        case amount
        case refundedAt = "refunded_at"
    }
}
