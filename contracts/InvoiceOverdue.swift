public import Foundation

/// `invoice.overdue`: invoice-service closed an invoice still unpaid at its due date. It
/// decides lateness because it alone knows whether the invoice is paid: it closes the invoice
/// under the same lock payments take, never while a payment of it is in flight, and a payment
/// at or after the due date is refused. order-service cancels the order on this event (reason
/// `payment_overdue`), and the cancellation voids the invoice.
public struct InvoiceOverdue: EventPayload {
    public static var eventType: EventType { .invoiceOverdue }

    /// The invoice.
    public var invoiceID: UUID
    /// Its number.
    public var invoiceNumber: String
    /// The order it bills.
    public var orderID: UUID
    /// The billed customer.
    public var customerID: UUID
    /// When payment was due.
    public var dueAt: Date
    /// When the invoice was closed as overdue.
    public var overdueAt: Date

    /// Creates the payload.
    public init(invoiceID: UUID, invoiceNumber: String, orderID: UUID, customerID: UUID, dueAt: Date, overdueAt: Date) {
        self.invoiceID = invoiceID
        self.invoiceNumber = invoiceNumber
        self.orderID = orderID
        self.customerID = customerID
        self.dueAt = dueAt
        self.overdueAt = overdueAt
    }

    enum CodingKeys: String, CodingKey {
        case invoiceID = "invoice_id"
        case invoiceNumber = "invoice_number"
        case orderID = "order_id"
        case customerID = "customer_id"
        case dueAt = "due_at"
        case overdueAt = "overdue_at"
    }
}
