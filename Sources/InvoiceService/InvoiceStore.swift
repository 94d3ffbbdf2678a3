package import Contracts
package import Foundation
package import ServiceKit

/// invoice-service's invoices: issued from `order.created`, voided by `order.cancelled`, closed
/// when overdue. Every change of an invoice's status goes through ``InvoiceLifecycle`` under
/// the invoice's row lock, in one transaction with the events it announces (outbox) and the
/// inbox entries of the events it applies. Payments are ``PaymentStore``'s, under the same
/// lock.
package protocol InvoiceStore: Sendable {
    /// Invoices each order once, in one transaction: inbox entries, the next gapless numbers,
    /// the invoices and their `invoice.created` events. An order that already has an invoice
    /// (a duplicate under another event id) gets none, and so does a cancelled order.
    func invoice(_ orders: [OrderToInvoice], terms: InvoicingTerms, at time: Date) async throws

    /// Applies `order.cancelled`, once per event: the order is never invoiced from now on,
    /// and its invoice, if any, is voided (`invoice.voided`). Returns how many captured
    /// payments the voids left to refund (``PaymentStore/claimRefunds(limit:lease:at:)``).
    @discardableResult
    func cancelOrders(_ cancellations: [CancelledOrder]) async throws -> Int

    /// The invoice, if it exists.
    func invoice(id: UUID) async throws -> Invoice?

    /// The invoice of an order, if it has one.
    func invoice(orderID: UUID) async throws -> Invoice?

    /// A page of invoices, oldest first: everyone's, or `customerID`'s only.
    func invoices(page: PageRequest, customerID: UUID?) async throws -> [Invoice]

    /// Closes up to `limit` invoices still issued at their due date (`dueAt` at or before
    /// `time`) and with no payment in flight, as overdue, each with its `invoice.overdue`:
    /// under the same lock payments take, so a payment started in time is never overtaken
    /// (an invoice with a pending payment waits for its outcome). Safe on several replicas at
    /// once (`SKIP LOCKED`). Returns how many it closed.
    func closeOverdue(at time: Date, limit: Int) async throws -> Int
}

/// What an invoice says besides its lines: the tax and when payment is due.
package struct InvoicingTerms: Sendable, Hashable {
    /// The rate applied, e.g. `0.20`.
    package var taxRate: Decimal
    /// How long after issue payment is due.
    package var paymentDue: Duration

    /// Creates terms.
    package init(taxRate: Decimal, paymentDue: Duration) {
        self.taxRate = taxRate
        self.paymentDue = paymentDue
    }

    /// The due date of an invoice issued at `issuedAt`.
    package func dueDate(issuedAt: Date) -> Date {
        issuedAt.addingTimeInterval(paymentDue.timeInterval)
    }
}

/// One `order.created` to invoice.
package struct OrderToInvoice: Sendable {
    /// The inbox entry.
    package var event: IncomingEvent
    /// The order.
    package var order: OrderCreated
    /// Carried into `invoice.created`.
    package var traceparent: String?

    /// Creates the entry.
    package init(event: IncomingEvent, order: OrderCreated, traceparent: String?) {
        self.event = event
        self.order = order
        self.traceparent = traceparent
    }
}

/// One `order.cancelled` to apply.
package struct CancelledOrder: Sendable {
    /// The inbox entry.
    package var event: IncomingEvent
    /// The cancellation.
    package var cancellation: OrderCancelled
    /// Carried into `invoice.voided`.
    package var traceparent: String?

    /// Creates the entry.
    package init(event: IncomingEvent, cancellation: OrderCancelled, traceparent: String?) {
        self.event = event
        self.cancellation = cancellation
        self.traceparent = traceparent
    }
}

/// A payment request as the route validated it.
package struct NewPayment: Sendable, Hashable {
    /// The invoice to pay.
    package var invoiceID: UUID
    /// The client's `Idempotency-Key`.
    package var idempotencyKey: String
    /// The canonical request, compared on a replay.
    package var request: String
    /// How much (must be the invoice's open amount).
    package var amount: Money
    /// How.
    package var method: String
    /// The client's provider token.
    package var token: String?
    /// The caller's trace, carried into `invoice.paid`.
    package var traceparent: String?

    /// Creates a request.
    package init(
        invoiceID: UUID, idempotencyKey: String, request: String, amount: Money, method: String, token: String?,
        traceparent: String?
    ) {
        self.invoiceID = invoiceID
        self.idempotencyKey = idempotencyKey
        self.request = request
        self.amount = amount
        self.method = method
        self.token = token
        self.traceparent = traceparent
    }
}

/// What ``PaymentStore/startPayment(_:at:)`` found.
package struct PaymentStart: Sendable, Hashable {
    /// The payment: new and pending, or the one made under the same key (a retried failed
    /// one is pending again).
    package var payment: Payment
    /// Its invoice.
    package var invoice: Invoice
    /// Whether the payment existed before this request.
    package var isReplay: Bool

    /// Creates the result.
    package init(payment: Payment, invoice: Invoice, isReplay: Bool) {
        self.payment = payment
        self.invoice = invoice
        self.isReplay = isReplay
    }
}

extension PaymentStore {
    /// ``settlePayment(_:outcome:at:traceparent:attempt:)`` outside any request's trace (the
    /// reconciler), for whatever attempt the payment is at.
    package func settlePayment(_ id: UUID, outcome: PaymentOutcome, at time: Date) async throws -> (Payment, Invoice) {
        try await settlePayment(id, outcome: outcome, at: time, traceparent: nil, attempt: nil)
    }

    /// ``settlePayment(_:outcome:at:traceparent:attempt:)`` for whatever attempt the payment is at.
    package func settlePayment(_ id: UUID, outcome: PaymentOutcome, at time: Date, traceparent: String?) async throws
        -> (Payment, Invoice)
    {
        try await settlePayment(id, outcome: outcome, at: time, traceparent: traceparent, attempt: nil)
    }
}

/// What invoice-service's storage refuses, in the domain's terms; the routes answer it.
package struct InvoiceStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        package var description: String { value }

        /// No such invoice.
        package static let notFound = Code("notFound")
        /// The invoice is paid already.
        package static let alreadyPaid = Code("alreadyPaid")
        /// The invoice is void (its order was cancelled).
        package static let void = Code("void")
        /// The amount is not the invoice's open amount.
        package static let wrongAmount = Code("wrongAmount")
        /// Another payment of the invoice is in progress.
        package static let paymentInProgress = Code("paymentInProgress")
        /// The `Idempotency-Key` was used for another request.
        package static let idempotencyKeyReused = Code("idempotencyKeyReused")
        /// The invoice's due date has passed: it is closed to payments.
        package static let overdue = Code("overdue")
    }

    /// What went wrong.
    package var code: Code
    /// Details for the client.
    package var message: String

    /// Creates the error.
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "InvoiceStoreError.\(code): \(message)" }
}
