package import Contracts
package import Foundation
package import ServiceKit

/// order-service's storage. Every mutating call is atomic: the state change, the events it
/// announces (outbox) and, for events it applies, their inbox entries commit together.
package protocol OrderRepository: Sendable {
    /// Stores `order` and queues its `order.created`, in one transaction. With an
    /// idempotency key already used, returns the order stored under it instead (``PlacedOrder/isReplay``),
    /// or throws ``OrderStoreError/Code/idempotencyKeyReused`` if that order was placed with a
    /// different request.
    func place(_ order: Order, idempotency: IdempotencyKey?, traceparent: String?) async throws -> PlacedOrder

    /// The order stored under an idempotency key, with the request it was placed with.
    func order(idempotencyKey: String) async throws -> (Order, request: String)?

    /// The order, if it exists.
    func order(id: UUID) async throws -> Order?

    /// A page of orders, oldest first, optionally of one customer.
    func orders(page: PageRequest, customerID: UUID?) async throws -> [Order]

    /// The replica's copy of a customer.
    func customer(id: UUID) async throws -> CustomerSnapshot?

    /// Stores customer snapshots in the replica, each only if newer than what it holds;
    /// `events` are the inbox entries of the events they came from (none for an HTTP lookup).
    func saveCustomers(_ customers: [CustomerSnapshot], events: [IncomingEvent]) async throws

    /// Moves orders to `invoiced` (``OrderLifecycle``), once per event, and records their
    /// invoice and its due date. An invoice for an order not stored (yet) is kept and
    /// applied when the order arrives. Returns when each order it marked was accepted
    /// (its `created_at`), for ``OrderAdmission`` to time the trip.
    @discardableResult
    func markInvoiced(_ invoices: [InvoicedOrder]) async throws -> [Date]

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

    /// Numbers the changes recorded so far whose transactions have ended, after every
    /// change numbered before: from then on ``changes(after:customerID:limit:)`` returns them.
    /// Every change is recorded in the transaction that made it (``place(_:idempotency:traceparent:)``,
    /// ``markInvoiced(_:)``) and numbered soon after. Safe to call from several replicas at
    /// once (they take turns). Returns whether every change committed before the call is now
    /// numbered: a change waits while an older transaction is still running.
    @discardableResult
    func settleChanges() async throws -> Bool

    /// The number of the last change numbered so far (0 before the first).
    func lastChangeSequence() async throws -> Int64

    /// Up to `limit` changes numbered after `sequence`, in sequence order, optionally of one
    /// customer's orders.
    func changes(after sequence: Int64, customerID: UUID?, limit: Int) async throws -> [OrderChange]

    /// One order's numbered changes, oldest first (empty if the order does not exist); it
    /// settles first, so a change made before the call is in it.
    func history(of orderID: UUID) async throws -> [OrderChange]

    /// Orders per status, optionally of one customer, as of the last numbered change (which
    /// the result names), read in one snapshot.
    func statusCounts(customerID: UUID?) async throws -> OrderStatusCounts
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

/// What ``OrderRepository/cancel(_:reason:at:traceparent:)`` did.
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
