public import Foundation

/// `invoice.voided`: invoice-service voided the invoice of a cancelled order. Its number stays
/// used (numbering stays gapless); a payment captured for it is refunded, announced by
/// `invoice.refunded`.
public struct InvoiceVoided: EventPayload {
    public static var eventType: EventType { .invoiceVoided }

    /// The invoice.
    public var invoiceID: UUID
    /// Its number, which no other invoice will have.
    public var invoiceNumber: String
    /// The cancelled order.
    public var orderID: UUID
    /// The billed customer.
    public var customerID: UUID
    /// Why the order was cancelled (``OrderCancelled/Reason``).
    public var reason: OrderCancelled.Reason
    /// A payment captured before the void, now being refunded; absent if nothing was paid.
    public var refundDue: Money?
    /// When the invoice was voided.
    public var voidedAt: Date

    /// Creates the payload.
    public init(
        invoiceID: UUID, invoiceNumber: String, orderID: UUID, customerID: UUID, reason: OrderCancelled.Reason,
        refundDue: Money?,
        voidedAt: Date
    ) {
        self.invoiceID = invoiceID
        self.invoiceNumber = invoiceNumber
        self.orderID = orderID
        self.customerID = customerID
        self.reason = reason
        self.refundDue = refundDue
        self.voidedAt = voidedAt
    }

    enum CodingKeys: String, CodingKey {
        case invoiceID = "invoice_id"
        case invoiceNumber = "invoice_number"
        case orderID = "order_id"
        case customerID = "customer_id"
        case reason
        case refundDue = "refund_due"
        case voidedAt = "voided_at"
    }
}
