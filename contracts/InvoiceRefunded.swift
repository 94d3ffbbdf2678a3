public import Foundation

/// `invoice.refunded`: a captured payment that could not stay was refunded in full: the
/// compensation step of the order's saga. Mostly a payment captured for an order that was
/// cancelled meanwhile (its invoice void or overdue); also a second capture of an invoice
/// another payment paid (the order stays paid). ``reason`` says which.
public struct InvoiceRefunded: EventPayload {
    public static var eventType: EventType { .invoiceRefunded }

    /// The invoice.
    public var invoiceID: UUID
    /// Its number.
    public var invoiceNumber: String
    /// The order.
    public var orderID: UUID
    /// The customer refunded.
    public var customerID: UUID
    /// The refunded payment.
    public var paymentID: UUID
    /// What was given back: everything captured.
    public var amount: Money
    /// When the provider confirmed the refund.
    public var refundedAt: Date
    /// Why the money went back; absent from events of earlier versions, which were all of
    /// cancelled orders.
    public var reason: RefundReason?

    /// Creates the payload.
    public init(
        invoiceID: UUID, invoiceNumber: String, orderID: UUID, customerID: UUID, paymentID: UUID, amount: Money,
        refundedAt: Date,
        reason: RefundReason? = nil
    ) {
        self.invoiceID = invoiceID
        self.invoiceNumber = invoiceNumber
        self.orderID = orderID
        self.customerID = customerID
        self.paymentID = paymentID
        self.amount = amount
        self.refundedAt = refundedAt
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case invoiceID = "invoice_id"
        case invoiceNumber = "invoice_number"
        case orderID = "order_id"
        case customerID = "customer_id"
        case paymentID = "payment_id"
        case amount
        case refundedAt = "refunded_at"
        case reason
    }
}
