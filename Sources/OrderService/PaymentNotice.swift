package import Contracts
package import Foundation
package import ServiceKit

/// One `invoice.paid`, `invoice.voided`, `invoice.refunded` or `invoice.overdue` to apply.
package struct PaymentNotice: Sendable {
    /// Which.
    package enum Kind: Sendable {
        /// `invoice.paid`.
        case paid
        /// `invoice.voided`.
        case voided
        /// `invoice.refunded`.
        case refunded
        /// `invoice.overdue`: invoice-service closed the invoice unpaid at its due date.
        case overdue
    }

    /// The inbox entry.
    package var event: IncomingEvent
    /// Which.
    package var kind: Kind
    /// The order.
    package var orderID: UUID
    /// Its invoice.
    package var invoiceID: UUID
    /// The invoice's number.
    package var invoiceNumber: String
    /// When it was paid, voided, refunded or closed as overdue.
    package var at: Date
    /// For a refund, why (nil from earlier versions: a cancelled order's).
    package var refundReason: RefundReason?

    /// Creates the entry.
    package init(
        event: IncomingEvent, kind: Kind, orderID: UUID, invoiceID: UUID, invoiceNumber: String, at: Date,
        refundReason: RefundReason? = nil
    ) {
        self.event = event
        self.kind = kind
        self.orderID = orderID
        self.invoiceID = invoiceID
        self.invoiceNumber = invoiceNumber
        self.at = at
        self.refundReason = refundReason
    }

    /// Whether this is a refund of a cancelled order's payment (recorded on the order, which
    /// must be cancelled first), as opposed to a paid order's second capture given back.
    package var isCancelledOrdersRefund: Bool { kind == .refunded && refundReason?.ofCancelledOrder != false }
}
