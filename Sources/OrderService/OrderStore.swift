package import Contracts
package import Foundation
package import ServiceKit

/// order-service's orders. Every mutating call is atomic: the state change, the events it
/// announces (outbox), the change it records for the live view (``OrderChangeLog``) and, for
/// events it applies, their inbox entries commit together.
package protocol OrderStore: Sendable {
    /// Stores `order` and queues its `order.created`, in one transaction. With an
    /// idempotency key already used, returns the order stored under it instead (``PlacedOrder/isReplay``),
    /// or throws ``OrderStoreError/Code/idempotencyKeyReused`` if that order was placed with a
    /// different request.
    func place(_ order: Order, idempotency: IdempotencyKey?, traceparent: String?) async throws -> PlacedOrder

    /// The order an earlier request under `idempotency`'s key placed (a replay), or `nil` if
    /// the key is new; throws ``OrderStoreError/Code/idempotencyKeyReused`` if that request
    /// was a different one. The one place a key's reuse is judged: ``place(_:idempotency:traceparent:)``
    /// asks it when its insert meets the key, and the route asks it first, so a retry is
    /// answered at once — whatever the load, and without entering a batch of new orders.
    func replay(of idempotency: IdempotencyKey) async throws -> Order?

    /// The order, if it exists.
    func order(id: UUID) async throws -> Order?

    /// A page of orders, oldest first, optionally of one customer.
    func orders(page: PageRequest, customerID: UUID?) async throws -> [Order]

    /// Records each invoice and its due date on its order (once per event; an order keeps its
    /// first invoice) and moves the order to `invoiced` (``OrderLifecycle``). Returns the
    /// orders it recorded an invoice on. News about an order not stored is handled as
    /// ``applyPayments(_:)`` handles it: nothing changes and it throws
    /// ``OrderStoreError/Code/unknownOrder``, to be retried and then dead-lettered (an order is
    /// committed before its `order.created` is published, so only a restored backup or a
    /// forged event gets here).
    @discardableResult
    func markInvoiced(_ invoices: [InvoicedOrder]) async throws -> [InvoiceRecorded]

    /// Cancels an order (``OrderLifecycle``) and queues `order.cancelled`, in one
    /// transaction; `nil` if there is no such order. A paid order is refused, a cancelled one
    /// answered as it is.
    func cancel(_ orderID: UUID, reason: OrderCancelled.Reason, at time: Date, traceparent: String?) async throws
        -> CancelResult?

    /// Applies `invoice.paid` (the order moves to `paid`, unless it was cancelled),
    /// `invoice.voided` and `invoice.refunded` (recorded on the cancelled order; a refund of a
    /// cancelled order's payment that arrives before the cancellation throws, to be retried;
    /// a paid order's second capture refunded changes nothing), and
    /// `invoice.overdue` (the order is cancelled, reason `payment_overdue`, with
    /// `order.cancelled`), once per event. Throws (to be retried) if an order is not stored yet.
    func applyPayments(_ notices: [PaymentNotice]) async throws

    /// How many orders were cancelled `out_of_stock` (their stock could not be reserved).
    func outOfStockCount() async throws -> Int
}

/// An `Idempotency-Key` and the canonical request it came with.
package struct IdempotencyKey: Sendable {
    /// The client's key.
    package var key: String
    /// The canonical request body.
    package var request: String

    /// Creates the pair.
    package init(key: String, request: String) {
        self.key = key
        self.request = request
    }
}

/// The outcome of placing an order.
package struct PlacedOrder: Sendable {
    /// The order (the earlier one, for a replay).
    package var order: Order
    /// Whether an earlier request with the same idempotency key had placed it.
    package var isReplay: Bool

    /// Creates the outcome.
    package init(order: Order, isReplay: Bool) {
        self.order = order
        self.isReplay = isReplay
    }
}

/// One `invoice.created` to apply.
package struct InvoicedOrder: Sendable {
    /// The inbox entry.
    package var event: IncomingEvent
    /// The invoiced order.
    package var orderID: UUID
    /// The invoice.
    package var invoiceID: UUID
    /// Its number.
    package var invoiceNumber: String
    /// When it is due (none on invoices issued before due dates existed).
    package var dueAt: Date?

    /// Creates the entry.
    package init(event: IncomingEvent, orderID: UUID, invoiceID: UUID, invoiceNumber: String, dueAt: Date? = nil) {
        self.event = event
        self.orderID = orderID
        self.invoiceID = invoiceID
        self.invoiceNumber = invoiceNumber
        self.dueAt = dueAt
    }
}

/// An order ``OrderStore/markInvoiced(_:)`` recorded an invoice on.
package struct InvoiceRecorded: Sendable, Hashable {
    /// The order.
    package var orderID: UUID
    /// When it was placed.
    package var placedAt: Date

    /// Creates the record.
    package init(orderID: UUID, placedAt: Date) {
        self.orderID = orderID
        self.placedAt = placedAt
    }
}

/// What ``OrderStore/cancel(_:reason:at:traceparent:)`` did.
package struct CancelResult: Sendable, Hashable {
    /// The order as it is now.
    package var order: Order
    /// What the cancellation did: moved it to cancelled, found it cancelled already, or was
    /// refused because it is paid.
    package var outcome: OrderLifecycle.Outcome

    /// Creates the result.
    package init(order: Order, outcome: OrderLifecycle.Outcome) {
        self.order = order
        self.outcome = outcome
    }
}
