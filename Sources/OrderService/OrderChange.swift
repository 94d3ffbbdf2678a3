package import Contracts
package import Foundation

/// One change in an order's life, as its history and the live stream show it: the order as it
/// was right after the change, numbered by a sequence that orders every change of every order.
///
/// Sequence numbers are handed out by the sequencer once the changes' transactions have
/// ended (``OrderChangeLog/settleChanges()``), so changes become visible in sequence order: a reader that has seen change `n` has seen
/// every change before it, and "every change after `n`" is a gapless resume point.
package struct OrderChange: Sendable, Hashable {
    /// What happened to the order.
    package enum Kind: String, Sendable, Codable, CaseIterable {
        /// It was placed.
        case created = "order.created"
        /// Its invoice was issued.
        case invoiced = "order.invoiced"
        /// Its invoice was paid.
        case paid = "order.paid"
        /// It was cancelled.
        case cancelled = "order.cancelled"
        /// A payment captured despite its cancellation was refunded (it stays cancelled).
        case refunded = "order.refunded"

        /// The status the order has after this change.
        package var status: Order.Status {
            switch self {
            case .created: .created
            case .invoiced: .invoiced
            case .paid: .paid
            case .cancelled, .refunded: .cancelled
            }
        }

        /// ``status`` in SQL: a `CASE` over `column` (holding a kind's raw value), for
        /// statements that count statuses from the change log; made from the mapping above, so
        /// there is one.
        package static func sqlStatus(of column: String) -> String {
            "CASE \(column) "
                + allCases.map { "WHEN '\($0.rawValue)' THEN '\($0.status.rawValue)'" }.joined(separator: " ") + " END"
        }
    }

    /// Where the change stands among all changes; increases by one per change.
    package var sequence: Int64
    /// What happened.
    package var kind: Kind
    /// When it happened.
    package var at: Date
    /// The order right after the change (its `updatedAt` is ``at``).
    package var order: Order
    /// The order's customer, as order-service's replica knows them (nil if it does not yet).
    package var customer: CustomerSnapshot?
    /// The status the change moved the order from; nil for ``Kind/created``.
    package var previousStatus: Order.Status?

    /// Creates a change.
    package init(
        sequence: Int64, kind: Kind, at: Date, order: Order, customer: CustomerSnapshot? = nil,
        previousStatus: Order.Status? = nil
    ) {
        self.sequence = sequence
        self.kind = kind
        self.at = at
        self.order = order
        self.customer = customer
        self.previousStatus = previousStatus
    }
}

/// How many orders are in each status, and the last change those counts include.
package struct OrderStatusCounts: Sendable, Hashable {
    /// Orders per status (a status with none is absent).
    package var counts: [Order.Status: Int]
    /// The sequence number of the last change counted: later changes move the counts on.
    package var sequence: Int64

    /// Creates the counts.
    package init(counts: [Order.Status: Int], sequence: Int64) {
        self.counts = counts
        self.sequence = sequence
    }
}
