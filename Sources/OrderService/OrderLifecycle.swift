/// The order's states and the only ways between them. Every change of an order's status goes
/// through ``transition(from:on:)`` — in Swift for the rarer changes, and as the SQL `CASE`
/// of ``sqlCase(for:column:)`` on the hot path — so a repeated or out-of-order event can only land
/// on a transition that changes nothing.
///
/// ```
/// created ──invoice issued──▶ invoiced ──payment captured──▶ paid
///    │  └──────────payment captured────────────────────────▲
///    └──cancel──▶ cancelled ◀──cancel── invoiced           (paid: cancel refused)
/// ```
/// A cancelled order stays cancelled: an invoice or a payment that arrives after the
/// cancellation is recorded on it (the payment is refunded by invoice-service), never undoes it.
package enum OrderLifecycle {
    /// What happens to an order.
    package enum Event: String, Sendable, Hashable, CaseIterable {
        /// invoice-service issued its invoice (`invoice.created`).
        case invoiceIssued
        /// Its invoice was paid (`invoice.paid`).
        case paymentCaptured
        /// The customer, an operator or the due-date sweeper cancels it.
        case cancel
        /// A payment captured despite the cancellation was given back (`invoice.refunded`).
        case paymentRefunded
    }

    /// What an event does to an order in a given state.
    package enum Outcome: Sendable, Hashable {
        /// The order moves to this status.
        case moves(to: Order.Status)
        /// Nothing changes (a repeat, or news recorded without a change of status).
        case stays
        /// The event is refused: the order is paid and cannot be cancelled.
        case refused
    }

    /// The outcome of `event` for an order in `status`.
    package static func transition(from status: Order.Status, on event: Event) -> Outcome {
        switch (status, event) {
        case (.created, .invoiceIssued): .moves(to: .invoiced)
        case (.created, .paymentCaptured), (.invoiced, .paymentCaptured): .moves(to: .paid)
        case (.created, .cancel), (.invoiced, .cancel): .moves(to: .cancelled)
        case (.paid, .cancel): .refused
        // Repeats, and news after the fact: an invoice of a paid order (its invoice.created
        // came late), a payment of a cancelled one (refunded), a refund (recorded).
        case (.invoiced, .invoiceIssued), (.paid, .invoiceIssued), (.cancelled, .invoiceIssued): .stays
        case (.paid, .paymentCaptured), (.cancelled, .paymentCaptured): .stays
        case (.cancelled, .cancel): .stays
        case (_, .paymentRefunded): .stays
        }
    }

    /// `CASE status WHEN … THEN … ELSE status END`: ``transition(from:on:)`` for `event` as SQL
    /// over a `status` column, for statements that move many orders at once.
    package static func sqlCase(for event: Event, column: String = "status") -> String {
        let moves = Order.Status.allCases.compactMap { status -> String? in
            guard case .moves(let next) = transition(from: status, on: event) else { return nil }
            return "WHEN '\(status.rawValue)' THEN '\(next.rawValue)'"
        }
        return "CASE \(column) \(moves.joined(separator: " ")) ELSE \(column) END"
    }
}
