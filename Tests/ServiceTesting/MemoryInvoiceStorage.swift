import Contracts
package import Foundation
package import InvoiceService
package import ServiceKit

/// invoice-service's invoices and payments in memory, for unit tests; it passes the same
/// contract suite as `PostgresInvoiceStore` with `PostgresPaymentStore`. One actor is both
/// stores because, as in PostgreSQL, a payment's settlement and an invoice's void change both
/// in one step; being an actor, each call runs alone: the row locks of the PostgreSQL version
/// are implicit.
package actor MemoryInvoiceStorage: InvoiceStore, PaymentStore {
    private var invoices: [UUID: Invoice] = [:]
    private var byOrder: [UUID: UUID] = [:]
    private var counters: [Int: Int] = [:]
    private var inbox: Set<String> = []
    private var cancelled: Set<UUID> = []
    private var payments: [UUID: Payment] = [:]
    private var leases: [UUID: Date] = [:]
    /// The events queued by the repository.
    package nonisolated let outbox: MemoryOutboxStore
    private let stamp: EventStamp

    /// Creates an empty repository; `stamp` marks the events it queues, `outbox` receives them.
    package init(
        stamp: EventStamp = EventStamp(serviceName: "invoice-service"), outbox: MemoryOutboxStore = MemoryOutboxStore()
    ) {
        self.stamp = stamp
        self.outbox = outbox
    }

    package func invoice(_ orders: [OrderToInvoice], terms: InvoicingTerms, at time: Date) async throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let year = calendar.component(.year, from: time)
        var events: [OutboxMessage] = []
        var created: [Invoice] = []
        var sequence = counters[year] ?? 0
        var seen = inbox
        var skipped = Set(byOrder.keys).union(cancelled)
        for entry in orders where seen.insert(entry.event.id).inserted && skipped.insert(entry.order.orderID).inserted {
            sequence += 1
            let invoice = Invoice(
                for: entry.order, id: UUID.timeOrdered(at: time),
                number: Invoice.number(year: year, sequence: sequence), taxRate: terms.taxRate, issuedAt: time,
                dueAt: terms.dueDate(issuedAt: time))
            created.append(invoice)
            events.append(
                try stamp.message(invoice.createdEvent, subject: invoice.id, time: time, traceparent: entry.traceparent)
            )
        }
        // Nothing above throws past this point: all of it, or (like a rollback) none.
        inbox = seen
        counters[year] = sequence
        for invoice in created {
            invoices[invoice.id] = invoice
            byOrder[invoice.orderID] = invoice.id
        }
        outbox.append(events)
    }

    package func cancelOrders(_ cancellations: [CancelledOrder]) async throws -> Int {
        var seen = inbox
        var events: [OutboxMessage] = []
        var voided: [Invoice] = []
        var owed: [Payment] = []
        var refunds = 0
        let now = Date()
        var orders = Set<UUID>()
        for entry in cancellations
        where seen.insert(entry.event.id).inserted && orders.insert(entry.cancellation.orderID).inserted {
            guard var invoice = byOrder[entry.cancellation.orderID].flatMap({ invoices[$0] }),
                InvoiceLifecycle.transition(from: invoice.status, on: .orderCancelled).next == .void
            else { continue }
            let transition = InvoiceLifecycle.transition(from: invoice.status, on: .orderCancelled)
            invoice.status = .void
            invoice.voidedAt = now
            invoice.voidReason = entry.cancellation.reason.rawValue
            var captured: Money?
            if var kept = payments.values.first(where: {
                $0.invoiceID == invoice.id && $0.status == .captured && $0.refundDue == nil
            }) {
                kept.refundDue = transition.refund ?? .invoiceVoid
                owed.append(kept)
                captured = kept.amount
                refunds += 1
            }
            voided.append(invoice)
            events.append(
                try stamp.message(
                    invoice.voidedEvent(reason: entry.cancellation.reason, refundDue: captured, at: now),
                    subject: invoice.id, time: now,
                    traceparent: entry.traceparent))
        }
        inbox = seen
        cancelled.formUnion(orders)
        for invoice in voided { invoices[invoice.id] = invoice }
        for payment in owed { payments[payment.id] = payment }
        outbox.append(events)
        return refunds
    }

    package func invoice(id: UUID) async throws -> Invoice? { invoices[id] }

    package func invoice(orderID: UUID) async throws -> Invoice? { byOrder[orderID].flatMap { invoices[$0] } }

    package func invoices(page: PageRequest, customerID: UUID?) async throws -> [Invoice] {
        page.page(of: invoices.values.filter { customerID == nil || $0.customerID == customerID }) {
            PageCursor(time: $0.issuedAt, id: $0.id)
        }
    }

    package func startPayment(_ new: NewPayment, at time: Date) async throws -> PaymentStart {
        guard let invoice = invoices[new.invoiceID] else {
            throw InvoiceStoreError(.notFound, "invoice \(new.invoiceID)")
        }
        if var payment = payments.values.first(where: {
            $0.invoiceID == new.invoiceID && $0.idempotencyKey == new.idempotencyKey
        }) {
            guard payment.request == new.request else {
                throw InvoiceStoreError(
                    .idempotencyKeyReused, "this Idempotency-Key was used for a different payment request")
            }
            switch payment.status {
            case .failed where invoice.status == .issued && !invoice.isOverdue(at: time):
                guard let next = PaymentLifecycle.transition(from: .failed, on: .retried) else { break }
                try refuseIfAnotherIsLive(invoice, except: payment.id)
                payment.status = next
                payment.failureReason = nil
                payment.updatedAt = time
                payment.attempt += 1
                payments[payment.id] = payment
            case .pending:
                payment.updatedAt = time
                payment.attempt += 1
                payments[payment.id] = payment
            default: break
            }
            return PaymentStart(payment: payment, invoice: invoice, isReplay: true)
        }
        try invoice.checkPayable(amount: new.amount, at: time)
        try refuseIfAnotherIsLive(invoice, except: nil)
        let payment = Payment(
            id: UUID.timeOrdered(at: time), invoiceID: invoice.id, idempotencyKey: new.idempotencyKey,
            request: new.request, amount: new.amount, method: new.method,
            token: new.token, status: .pending, createdAt: time, updatedAt: time)
        payments[payment.id] = payment
        return PaymentStart(payment: payment, invoice: invoice, isReplay: false)
    }

    private func refuseIfAnotherIsLive(_ invoice: Invoice, except id: UUID?) throws {
        let live = payments.values.contains { payment in
            payment.invoiceID == invoice.id && payment.id != id
                && (payment.status == .pending || (payment.status == .captured && payment.refundDue == nil))
        }
        if live {
            throw InvoiceStoreError(.paymentInProgress, "another payment of invoice \(invoice.number) is in progress")
        }
    }

    package func settlePayment(_ id: UUID, outcome: PaymentOutcome, at time: Date, traceparent: String?, attempt: Int?)
        async throws -> (Payment, Invoice)
    {
        guard let current = payments[id], var invoice = invoices[current.invoiceID] else {
            throw InvoiceStoreError(.notFound, "payment \(id)")
        }
        if case .failed = outcome, let attempt, attempt != current.attempt { return (current, invoice) }
        guard var payment = current.applying(outcome, at: time) else { return (current, invoice) }
        var events: [OutboxMessage] = []
        if payment.status == .captured, invoice.take(&payment, at: time) {
            events.append(
                try stamp.message(
                    invoice.paidEvent(payment, at: time), subject: invoice.id, time: time, traceparent: traceparent))
        }
        payments[id] = payment
        leases[id] = nil
        invoices[invoice.id] = invoice
        outbox.append(events)
        return (payment, invoice)
    }

    package func payments(invoiceID: UUID) async throws -> [Payment] {
        payments.values.filter { $0.invoiceID == invoiceID }.sorted {
            ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString)
        }
    }

    package func claimRefunds(limit: Int, lease: Duration, at time: Date) async throws -> [Payment] {
        claim(limit: limit, lease: lease, at: time) { $0.status == .captured && $0.refundDue != nil }
    }

    package func claimGuessedFailures(limit: Int, lease: Duration, at time: Date) async throws -> [Payment] {
        claim(limit: limit, lease: lease, at: time) {
            $0.status == .failed && $0.failureReason == PaymentProcessor.guessedFailure
        }
    }

    package func claimStalePayments(updatedBefore cutoff: Date, limit: Int, lease: Duration, at time: Date) async throws
        -> [Payment]
    {
        claim(limit: limit, lease: lease, at: time) { $0.status == .pending && $0.updatedAt < cutoff }
    }

    private func claim(limit: Int, lease: Duration, at time: Date, where matches: (Payment) -> Bool) -> [Payment] {
        let due = payments.values.filter { matches($0) && (leases[$0.id].map { $0 < time } ?? true) }.sorted {
            $0.updatedAt < $1.updatedAt
        }
        .prefix(limit)
        let until = time.addingTimeInterval(lease.timeInterval)
        for payment in due { leases[payment.id] = until }
        return Array(due)
    }

    package func recordRefund(_ id: UUID, at time: Date) async throws {
        guard var payment = payments[id], let invoice = invoices[payment.invoiceID],
            let next = PaymentLifecycle.transition(from: payment.status, on: .refunded)
        else { return }
        let event = try stamp.message(invoice.refundedEvent(payment, at: time), subject: invoice.id, time: time)
        payment.status = next
        payment.updatedAt = time
        payments[id] = payment
        leases[id] = nil
        outbox.append([event])
    }

    package func closeOverdue(at time: Date, limit: Int) async throws -> Int {
        let inFlight = Set(payments.values.filter { $0.status == .pending }.map(\.invoiceID))
        let due = invoices.values.filter {
            $0.status == .issued && $0.dueAt.map { $0 <= time } == true && !inFlight.contains($0.id)
        }
        .sorted { ($0.dueAt!, $0.id.uuidString) < ($1.dueAt!, $1.id.uuidString) }.prefix(limit)
        var events: [OutboxMessage] = []
        var closed: [Invoice] = []
        for var invoice in due {
            guard let next = InvoiceLifecycle.transition(from: invoice.status, on: .dueDatePassed).next else {
                continue
            }
            invoice.status = next
            invoice.overdueAt = time
            closed.append(invoice)
            events.append(try stamp.message(invoice.overdueEvent(at: time), subject: invoice.id, time: time))
        }
        for invoice in closed { invoices[invoice.id] = invoice }
        outbox.append(events)
        return closed.count
    }
}
