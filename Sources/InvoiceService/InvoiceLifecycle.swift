/// The invoice's states and the only ways between them. Every change of an invoice's status
/// goes through ``transition(from:on:)``: the repositories lock the invoice, ask, and write
/// what it answers, so a repeated or out-of-order event can only land on a transition that
/// changes nothing.
///
/// ```
/// issued ──payment captured──▶ paid
///   │                           │
///   └──order cancelled──▶ void ◀┘ (a captured payment is then refunded)
/// ```
public enum InvoiceLifecycle {
    /// Where an invoice is.
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Issued, awaiting payment.
        case issued
        /// Paid in full.
        case paid
        /// Its order was cancelled. Final; its number stays used.
        case void
    }

    /// What happens to an invoice.
    public enum Event: Sendable, Hashable, CaseIterable {
        /// The provider captured a payment of the invoice's amount.
        case paymentCaptured
        /// Its order was cancelled (`order.cancelled`).
        case orderCancelled
    }

    /// What an event does to an invoice in a given state.
    public struct Transition: Sendable, Hashable {
        /// The new status; `nil` if it stays as it was.
        public var next: Status?
        /// Whether money captured for this invoice must go back: a payment captured for a
        /// cancelled order is refunded, never kept.
        public var refund: Bool

        /// Nothing changes.
        public static let unchanged = Transition(next: nil, refund: false)
    }

    /// The transition `event` makes from `status`.
    public static func transition(from status: Status, on event: Event) -> Transition {
        switch (status, event) {
        case (.issued, .paymentCaptured): Transition(next: .paid, refund: false)
        case (.issued, .orderCancelled): Transition(next: .void, refund: false)
        // The same capture reported again (a retry, the reconciler): already counted.
        case (.paid, .paymentCaptured): .unchanged
        // The cancellation won the race at order-service: void, and give the money back.
        case (.paid, .orderCancelled): Transition(next: .void, refund: true)
        // Captured after the void (the payment was at the provider while the order was
        // cancelled): compensate.
        case (.void, .paymentCaptured): Transition(next: nil, refund: true)
        case (.void, .orderCancelled): .unchanged
        }
    }
}
