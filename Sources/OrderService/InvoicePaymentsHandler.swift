import Contracts
package import ServiceKit

/// Marks orders paid, records the void and the refund of a cancelled order's invoice, and
/// cancels the orders whose invoice was closed as overdue: `invoice.paid`, `invoice.voided`,
/// `invoice.refunded` and `invoice.overdue` from `order-service.invoice-payments`.
package struct InvoicePaymentsHandler: EventHandler {
    private let store: any OrderStore

    /// Creates the handler over `store`.
    package init(store: any OrderStore) {
        self.store = store
    }

    package var accepts: [AcceptedEvent] {
        [
            AcceptedEvent(InvoicePaid.self), AcceptedEvent(InvoiceVoided.self), AcceptedEvent(InvoiceRefunded.self),
            AcceptedEvent(InvoiceOverdue.self),
        ]
    }

    package func apply(_ events: [IncomingEvent]) async throws {
        let notices = try events.map { event in
            if event.type == EventType.invoiceVoided.name {
                let void = try event.decode(InvoiceVoided.self).data
                return PaymentNotice(
                    event: event, kind: .voided, orderID: void.orderID, invoiceID: void.invoiceID,
                    invoiceNumber: void.invoiceNumber,
                    at: void.voidedAt)
            }
            if event.type == EventType.invoiceOverdue.name {
                let overdue = try event.decode(InvoiceOverdue.self).data
                return PaymentNotice(
                    event: event, kind: .overdue, orderID: overdue.orderID, invoiceID: overdue.invoiceID,
                    invoiceNumber: overdue.invoiceNumber,
                    at: overdue.overdueAt)
            }
            if event.type == EventType.invoiceRefunded.name {
                let refund = try event.decode(InvoiceRefunded.self).data
                return PaymentNotice(
                    event: event, kind: .refunded, orderID: refund.orderID, invoiceID: refund.invoiceID,
                    invoiceNumber: refund.invoiceNumber,
                    at: refund.refundedAt, refundReason: refund.reason)
            }
            let paid = try event.decode(InvoicePaid.self).data
            return PaymentNotice(
                event: event, kind: .paid, orderID: paid.orderID, invoiceID: paid.invoiceID,
                invoiceNumber: paid.invoiceNumber, at: paid.paidAt)
        }
        try await store.applyPayments(notices)
    }
}
