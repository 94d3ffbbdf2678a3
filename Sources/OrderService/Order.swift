package import Contracts
package import Foundation

/// An order as order-service stores it.
package struct Order: Sendable, Hashable {
    /// Where an order is in its life.
    package enum Status: String, Sendable, Codable, CaseIterable {
        /// Accepted; its invoice is on the way.
        case created
        /// invoice-service issued its invoice; payment is awaited.
        case invoiced
        /// Its invoice was paid. Final.
        case paid
        /// Cancelled before it was paid (by request, or unpaid at the due date). Final.
        case cancelled
    }

    /// The order's id.
    package var id: UUID
    /// Who placed it.
    package var customerID: UUID
    /// Where it is.
    package var status: Status
    /// Its lines, in the order given.
    package var items: [OrderLine]
    /// Sum of the lines.
    package var total: Money
    /// Its invoice, once issued.
    package var invoiceID: UUID?
    /// Its invoice's number, once issued.
    package var invoiceNumber: String?
    /// When it was accepted.
    package var createdAt: Date
    /// When it last changed.
    package var updatedAt: Date
    /// When its invoice is due, once invoiced.
    package var paymentDueAt: Date?
    /// When it was paid.
    package var paidAt: Date?
    /// When it was cancelled.
    package var cancelledAt: Date?
    /// Why it was cancelled (`requested`, `payment_overdue`).
    package var cancelReason: String?
    /// When a payment captured despite its cancellation was refunded.
    package var refundedAt: Date?
    /// When invoice-service voided its invoice (after the cancellation).
    package var invoiceVoidedAt: Date?

    /// Creates an order.
    package init(
        id: UUID, customerID: UUID, status: Status, items: [OrderLine], total: Money, invoiceID: UUID? = nil,
        invoiceNumber: String? = nil,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.status = status
        self.items = items
        self.total = total
        self.invoiceID = invoiceID
        self.invoiceNumber = invoiceNumber
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Cancels the order through ``OrderLifecycle``: it moves to cancelled with `reason` at
    /// `time`, unless it is paid (refused) or cancelled already (stays). The one place an order
    /// is cancelled — by its customer or for an overdue invoice, in memory and in PostgreSQL
    /// alike.
    @discardableResult
    package mutating func cancel(reason: OrderCancelled.Reason, at time: Date) -> OrderLifecycle.Outcome {
        let outcome = OrderLifecycle.transition(from: status, on: .cancel)
        guard case .moves(let next) = outcome else { return outcome }
        status = next
        cancelledAt = time
        cancelReason = reason.rawValue
        updatedAt = time
        return outcome
    }

    /// The `order.cancelled` payload announcing this order's cancellation.
    package var cancelledEvent: OrderCancelled? {
        guard status == .cancelled, let cancelledAt else { return nil }
        return OrderCancelled(
            orderID: id, customerID: customerID, reason: OrderCancelled.Reason(rawValue: cancelReason ?? "requested"),
            cancelledAt: cancelledAt)
    }

    /// The `order.created` payload announcing this order.
    package var createdEvent: OrderCreated {
        OrderCreated(orderID: id, customerID: customerID, items: items, total: total, createdAt: createdAt)
    }
}
