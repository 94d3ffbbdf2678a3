package import Contracts

/// The invoice's states and the only ways between them. Every change of an invoice's status
/// goes through ``transition(from:on:)``: the repositories lock the invoice, ask, and write
/// what it answers, so a repeated or out-of-order event can only land on a transition that
/// changes nothing.
///
/// ```
/// issued ──payment captured──▶ paid
///   │  └──due date passed, nothing in flight──▶ overdue
///   │                           │                  │
///   └──order cancelled──▶ void ◀┴──────────────────┘ (a captured payment is then refunded)
/// ```
/// invoice-service alone decides lateness, because it alone knows whether the invoice is paid:
/// an invoice paid before its due date is never closed as overdue, whatever else was down.
/// A capture that cannot pay the invoice (void, overdue, or paid by another payment) is
/// refunded, never kept.
package enum InvoiceLifecycle {
    /// Where an invoice is.
    package enum Status: String, Sendable, Codable, CaseIterable {
        /// Issued, awaiting payment.
        case issued
        /// Paid in full.
        case paid
        /// Unpaid at its due date, with no payment in flight: closed to payments; its order
        /// is cancelled on `invoice.overdue`, which voids it.
        case overdue
        /// Its order was cancelled. Final; its number stays used.
        case void
    }

    /// What happens to an invoice.
    package enum Event: Sendable, Hashable, CaseIterable {
        /// The provider captured a payment of the invoice's amount.
        case paymentCaptured
        /// Its order was cancelled (`order.cancelled`).
        case orderCancelled
        /// Its due date passed while it was unpaid and no payment of it was in flight.
        case dueDatePassed
    }

    /// What an event does to an invoice in a given state.
    package struct Transition: Sendable, Hashable {
        /// The new status; `nil` if it stays as it was.
        package var next: Status?
        /// Why the money of the payment in question must go back, if it must: a capture that
        /// cannot pay the invoice, or the payment of an invoice voided after it was paid.
        package var refund: RefundReason?

        /// Creates a transition.
        package init(next: Status?, refund: RefundReason? = nil) {
            self.next = next
            self.refund = refund
        }

        /// Nothing changes.
        package static let unchanged = Transition(next: nil)
    }

    /// The transition `event` makes from `status`.
    package static func transition(from status: Status, on event: Event) -> Transition {
        switch (status, event) {
        case (.issued, .paymentCaptured): Transition(next: .paid)
        case (.issued, .orderCancelled): Transition(next: .void)
        case (.issued, .dueDatePassed): Transition(next: .overdue)
        // Another payment's capture (a repeat of the one that paid never gets here: its
        // payment is captured already): the invoice is paid once, the rest goes back.
        case (.paid, .paymentCaptured): Transition(next: nil, refund: .invoicePaidByAnother)
        // The cancellation won the race at order-service: void, and give the money back.
        case (.paid, .orderCancelled): Transition(next: .void, refund: .invoiceVoid)
        case (.paid, .dueDatePassed): .unchanged
        // Closed for lateness: a late capture (a payment given up on) goes back; the order's
        // cancellation, which invoice.overdue asked for, voids it.
        case (.overdue, .paymentCaptured): Transition(next: nil, refund: .invoiceOverdue)
        case (.overdue, .orderCancelled): Transition(next: .void)
        case (.overdue, .dueDatePassed): .unchanged
        // Captured after the void (the payment was at the provider while the order was
        // cancelled): compensate.
        case (.void, .paymentCaptured): Transition(next: nil, refund: .invoiceVoid)
        case (.void, .orderCancelled), (.void, .dueDatePassed): .unchanged
        }
    }
}
