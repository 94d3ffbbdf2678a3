package import Contracts
package import Foundation

/// An invoice as invoice-service stores it.
package struct Invoice: Sendable, Hashable {
    /// The invoice's id.
    package var id: UUID
    /// `INV-<year>-<6 digits>`, gapless within a year.
    package var number: String
    /// The invoiced order, one invoice per order.
    package var orderID: UUID
    /// The billed customer.
    package var customerID: UUID
    /// The order's lines.
    package var lines: [OrderLine]
    /// Sum of the lines.
    package var subtotal: Money
    /// The rate applied.
    package var taxRate: Decimal
    /// `subtotal × taxRate`, rounded to cents (halves away from zero).
    package var tax: Money
    /// `subtotal + tax`.
    package var total: Money
    /// When it was issued.
    package var issuedAt: Date
    /// Where it is in its life.
    package var status: InvoiceLifecycle.Status = .issued
    /// When payment is due (none for invoices issued before due dates existed).
    package var dueAt: Date?
    /// When it was paid.
    package var paidAt: Date?
    /// When it was closed as overdue (unpaid at its due date).
    package var overdueAt: Date?
    /// When it was voided.
    package var voidedAt: Date?
    /// Why its order was cancelled.
    package var voidReason: String?

    /// Creates an invoice.
    package init(
        id: UUID, number: String, orderID: UUID, customerID: UUID, lines: [OrderLine], subtotal: Money,
        taxRate: Decimal, tax: Money,
        total: Money, issuedAt: Date, dueAt: Date? = nil
    ) {
        self.id = id
        self.number = number
        self.orderID = orderID
        self.customerID = customerID
        self.lines = lines
        self.subtotal = subtotal
        self.taxRate = taxRate
        self.tax = tax
        self.total = total
        self.issuedAt = issuedAt
        self.dueAt = dueAt
    }

    /// The invoice of `order`: lines copied, amounts computed exactly.
    package init(
        for order: OrderCreated, id: UUID, number: String, taxRate: Decimal, issuedAt: Date, dueAt: Date? = nil
    ) {
        let subtotal = order.items.map(\.lineTotal).reduce(Money.zero, +)
        let tax = (subtotal * taxRate).rounded(scale: 2)
        self.init(
            id: id, number: number, orderID: order.orderID, customerID: order.customerID, lines: order.items,
            subtotal: subtotal,
            taxRate: taxRate, tax: tax, total: subtotal + tax, issuedAt: issuedAt, dueAt: dueAt)
    }

    /// `INV-2026-000042`.
    package static func number(year: Int, sequence: Int) -> String {
        let digits = String(sequence)
        let padded = digits.count >= 6 ? digits : String(repeating: "0", count: 6 - digits.count) + digits
        return "INV-\(year)-\(padded)"
    }

    /// The `invoice.created` payload announcing this invoice.
    package var createdEvent: InvoiceCreated {
        InvoiceCreated(
            invoiceID: id, invoiceNumber: number, orderID: orderID, customerID: customerID, lines: lines,
            subtotal: subtotal,
            taxRate: taxRate, tax: tax, total: total, issuedAt: issuedAt, dueAt: dueAt)
    }

    /// The `invoice.paid` payload for `payment`, captured at `time`.
    package func paidEvent(_ payment: Payment, at time: Date) -> InvoicePaid {
        InvoicePaid(
            invoiceID: id, invoiceNumber: number, orderID: orderID, customerID: customerID, paymentID: payment.id,
            amount: payment.amount,
            method: payment.method, paidAt: time)
    }

    /// The `invoice.voided` payload: voided at `time` for `reason`, with `refundDue` captured.
    package func voidedEvent(reason: OrderCancelled.Reason, refundDue: Money?, at time: Date) -> InvoiceVoided {
        InvoiceVoided(
            invoiceID: id, invoiceNumber: number, orderID: orderID, customerID: customerID, reason: reason,
            refundDue: refundDue, voidedAt: time)
    }

    /// The `invoice.overdue` payload: closed unpaid at `time`.
    package func overdueEvent(at time: Date) -> InvoiceOverdue {
        InvoiceOverdue(
            invoiceID: id, invoiceNumber: number, orderID: orderID, customerID: customerID, dueAt: dueAt ?? time,
            overdueAt: time)
    }

    /// Whether a payment started at `time` is too late: the invoice is closed as overdue, or
    /// its due date has passed and the sweeper has not closed it yet.
    package func isOverdue(at time: Date) -> Bool {
        status == .overdue || (status == .issued && dueAt.map { time >= $0 } == true)
    }

    /// The `invoice.refunded` payload for `payment`, refunded at `time`.
    package func refundedEvent(_ payment: Payment, at time: Date) -> InvoiceRefunded {
        InvoiceRefunded(
            invoiceID: id, invoiceNumber: number, orderID: orderID, customerID: customerID, paymentID: payment.id,
            amount: payment.amount,
            refundedAt: time, reason: payment.refundDue)
    }

    /// What is still to pay: the total while issued, nothing once paid, overdue or void.
    package var openAmount: Money { status == .issued ? total : .zero }

    /// Whether a new payment of `amount` may start at `time`: the invoice is issued, not past
    /// its due date, and `amount` is its open amount. Checked under the invoice's lock.
    package func checkPayable(amount: Money, at time: Date) throws(InvoiceStoreError) {
        switch status {
        case .paid: throw InvoiceStoreError(.alreadyPaid, "invoice \(number) is paid already")
        case .void: throw InvoiceStoreError(.void, "invoice \(number) is void: its order was cancelled")
        case .overdue,
            .issued where isOverdue(at: time):
            throw InvoiceStoreError(
                .overdue,
                "invoice \(number) was due at \(EventCoding.formatTimestamp(dueAt ?? time)); it can no longer be paid")
        case .issued: break
        }
        guard amount == openAmount else {
            throw InvoiceStoreError(.wrongAmount, "amount must be the invoice's open amount, \(openAmount)")
        }
    }

    /// Applies the capture of `payment` (captured just now): it pays the invoice if the
    /// invoice can still be paid, and otherwise owes a refund (``Payment/refundDue``). Returns
    /// whether it paid the invoice, which then announces `invoice.paid`.
    package mutating func take(_ payment: inout Payment, at time: Date) -> Bool {
        let transition = InvoiceLifecycle.transition(from: status, on: .paymentCaptured)
        payment.refundDue = transition.refund
        guard transition.next == .paid else { return false }
        status = .paid
        paidAt = time
        return true
    }
}
