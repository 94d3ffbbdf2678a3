import Contracts
import Foundation
package import InvoiceService
import MercatoTesting
package import ServiceKit
import Testing

/// invoice-service's storage under test — its invoice store and payment store over one
/// database — with a view of the events they queued.
package struct InvoiceStorage: Sendable {
    /// The invoices.
    package var invoices: any InvoiceStore
    /// The payments.
    package var payments: any PaymentStore
    /// The events they queued and nobody published yet, oldest first.
    package var pendingEvents: @Sendable () async throws -> [OutboxMessage]

    /// Creates the subject.
    package init(
        invoices: any InvoiceStore, payments: any PaymentStore,
        pendingEvents: @escaping @Sendable () async throws -> [OutboxMessage]
    ) {
        self.invoices = invoices
        self.payments = payments
        self.pendingEvents = pendingEvents
    }
}

/// What every ``InvoiceStore`` and ``PaymentStore`` does — PostgreSQL's and the in-memory
/// ones alike.
package enum InvoiceStorageContract {
    /// The stamp the contract's stores are created with.
    package static let stamp = EventStamp(serviceName: "invoice-service")

    static func order(_ lines: [(String, Int, String)] = [("Tea", 1, "3.00")]) -> OrderCreated {
        let items = lines.map { OrderLine(productName: $0.0, quantity: $0.1, unitPrice: Money($0.2)!) }
        return OrderCreated(
            orderID: UUID(), customerID: UUID(), items: items, total: items.map(\.lineTotal).reduce(.zero, +),
            createdAt: Date())
    }

    static func toInvoice(_ order: OrderCreated, id: String = UUID().uuidString) throws -> OrderToInvoice {
        let event = try IncomingEvent(CloudEvent(id: id, source: "/tests", traceparent: testTraceparent, data: order))
        return OrderToInvoice(event: event, order: order, traceparent: testTraceparent)
    }

    /// Invoicing terms at `taxRate`, due in an hour.
    static func terms(_ taxRate: Decimal) -> InvoicingTerms {
        InvoicingTerms(taxRate: taxRate, paymentDue: .seconds(3600))
    }

    static func cancellation(of order: OrderCreated, id: String = UUID().uuidString) throws -> CancelledOrder {
        let cancelled = OrderCancelled(
            orderID: order.orderID, customerID: order.customerID, reason: .requested, cancelledAt: Date())
        return CancelledOrder(
            event: try IncomingEvent(CloudEvent(id: id, source: "/tests", data: cancelled)), cancellation: cancelled,
            traceparent: nil)
    }

    static func payment(of invoice: Invoice, key: String = UUID().uuidString, amount: Money? = nil) -> NewPayment {
        NewPayment(
            invoiceID: invoice.id, idempotencyKey: key, request: "{\"key\":\"\(key)\"}",
            amount: amount ?? invoice.total, method: "card", token: nil,
            traceparent: nil)
    }

    /// A fresh order, invoiced.
    static func invoiced(_ store: InvoiceStorage) async throws -> (OrderCreated, Invoice) {
        let created = order()
        try await store.invoices.invoice([try toInvoice(created)], terms: terms(0), at: millisecondNow())
        return (created, try #require(try await store.invoices.invoice(orderID: created.orderID)))
    }

    static func sequences(_ invoices: [Invoice]) -> [Int] {
        invoices.compactMap { Int($0.number.split(separator: "-").last ?? "") }.sorted()
    }

    /// Every check.
    package static let checks: [ContractCheck<InvoiceStorage>] = [
        ContractCheck("each order gets one invoice, numbered without gaps, however often its event arrives") { store in
            let time = millisecondNow()
            let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: time)
                .year!
            let (first, second, third) = (order(), order([("Coffee", 2, "2.50")]), order())
            let firstEvent = try toInvoice(first)
            try await store.invoices.invoice(
                [firstEvent, try toInvoice(second), firstEvent], terms: terms(Decimal(string: "0.20")!), at: time)
            // Redelivered.
            try await store.invoices.invoice([firstEvent], terms: terms(Decimal(string: "0.20")!), at: time)
            // Same order, new event id.
            try await store.invoices.invoice([try toInvoice(first)], terms: terms(Decimal(string: "0.20")!), at: time)
            try await store.invoices.invoice([try toInvoice(third)], terms: terms(Decimal(string: "0.20")!), at: time)
            let invoices = try await [first, second, third].asyncMap {
                try #require(try await store.invoices.invoice(orderID: $0.orderID))
            }
            #expect(invoices.map(\.number) == (1...3).map { Invoice.number(year: year, sequence: $0) })
            let coffee = invoices[1]
            #expect(
                coffee.subtotal == Money("5.00") && coffee.tax == Money("1.00") && coffee.total == Money("6.00")
                    && coffee.lines == second.items)
            #expect(try await store.invoices.invoice(id: coffee.id)?.number == coffee.number)
            #expect(try await store.invoices.invoice(id: UUID()) == nil)
            #expect(try await store.invoices.invoice(orderID: UUID()) == nil)
            let events = try await store.pendingEvents()
            #expect(events.map(\.eventType) == Array(repeating: "invoice.created", count: 3))
            let event = try EventCoding.makeDecoder().decode(CloudEvent<InvoiceCreated>.self, from: events[1].body)
            var expected = coffee.createdEvent
            expected.issuedAt = event.data.issuedAt
            expected.dueAt = event.data.dueAt
            #expect(event.data == expected && sameInstant(event.data.issuedAt, coffee.issuedAt))
            #expect(event.data.dueAt.map { sameInstant($0, time.addingTimeInterval(3600)) } == true)
            #expect(event.traceparent == testTraceparent && event.source == stamp.source)
        },
        ContractCheck("batches invoicing at the same time share one gapless sequence") { store in
            let batches = (0..<4).map { _ in (0..<15).map { _ in order() } }
            let time = millisecondNow()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for batch in batches {
                    group.addTask {
                        try await store.invoices.invoice(
                            try batch.map { try toInvoice($0) }, terms: terms(0), at: time)
                    }
                }
                try await group.waitForAll()
            }
            var invoices: [Invoice] = []
            var request = PageRequest(limit: 100)
            while true {
                let page = try await store.invoices.invoices(page: request, customerID: nil)
                invoices += page
                guard page.count == request.limit, let last = page.last else { break }
                request.after = PageCursor(time: last.issuedAt, id: last.id)
            }
            #expect(sequences(invoices) == Array(1...60))
            #expect(Set(invoices.map(\.orderID)) == Set(batches.joined().map(\.orderID)))
        },
        ContractCheck("pages run oldest first and follow each other without repeats") { store in
            let start = millisecondNow(plus: -100)
            for index in 0..<7 {
                try await store.invoices.invoice(
                    [try toInvoice(order())], terms: terms(0), at: start + Double(index / 2))
            }
            var request = PageRequest(limit: 3)
            var seen: [Invoice] = []
            while true {
                let page = try await store.invoices.invoices(page: request, customerID: nil)
                seen += page
                guard page.count == request.limit, let last = page.last else { break }
                request.after = PageCursor(time: last.issuedAt, id: last.id)
            }
            let key = { (invoice: Invoice) in PageCursor(time: invoice.issuedAt, id: invoice.id) }
            #expect(seen.count == 7 && seen.map(key) == seen.map(key).sorted())
        },
        ContractCheck("a customer's page holds that customer's invoices only") { store in
            let mine = order()
            let theirs = order()
            try await store.invoices.invoice(
                [try toInvoice(mine), try toInvoice(theirs)], terms: terms(0), at: millisecondNow())
            let page = try await store.invoices.invoices(page: PageRequest(limit: 10), customerID: mine.customerID)
            #expect(page.map(\.orderID) == [mine.orderID])
        },
        ContractCheck("a cancelled order is never invoiced; an invoiced one is voided once and keeps its number") {
            store in
            let early = order()
            try await store.invoices.cancelOrders([try cancellation(of: early)])
            try await store.invoices.invoice([try toInvoice(early)], terms: terms(0), at: millisecondNow())
            #expect(try await store.invoices.invoice(orderID: early.orderID) == nil)
            let (late, invoice) = try await invoiced(store)
            let cancel = try cancellation(of: late)
            #expect(try await store.invoices.cancelOrders([cancel, cancel]) == 0)
            try await store.invoices.cancelOrders([try cancellation(of: late)])  // another event id, same order
            let voided = try #require(try await store.invoices.invoice(id: invoice.id))
            #expect(
                voided.status == .void && voided.number == invoice.number && voided.voidReason == "requested"
                    && voided.voidedAt != nil)
            let events = try await store.pendingEvents().filter { $0.eventType == "invoice.voided" }
            #expect(events.count == 1)
            let event = try EventCoding.makeDecoder().decode(
                CloudEvent<InvoiceVoided>.self, from: try #require(events.first).body)
            #expect(event.data.invoiceNumber == invoice.number && event.data.refundDue == nil)
            await #expect(throws: InvoiceStoreError.self) {
                try await store.payments.startPayment(payment(of: voided), at: Date())
            }
        },
        ContractCheck("a payment pays the invoice once; its key answers it again; a second payment is refused") {
            store in
            let (_, invoice) = try await invoiced(store)
            let wrong = payment(of: invoice, amount: invoice.total + Money("0.01")!)
            await #expect(
                throws: InvoiceStoreError(.wrongAmount, "amount must be the invoice's open amount, \(invoice.total)")
            ) {
                try await store.payments.startPayment(wrong, at: Date())
            }
            let request = payment(of: invoice)
            let start = try await store.payments.startPayment(request, at: Date())
            #expect(start.payment.status == .pending && !start.isReplay)
            do {
                _ = try await store.payments.startPayment(payment(of: invoice), at: Date())
                Issue.record("a second payment was accepted while one is pending")
            } catch let error as InvoiceStoreError {
                #expect(error.code == .paymentInProgress)
            }
            var changed = request
            changed.request = "{}"
            do {
                _ = try await store.payments.startPayment(changed, at: Date())
                Issue.record("a reused key was accepted")
            } catch let error as InvoiceStoreError {
                #expect(error.code == .idempotencyKeyReused)
            }
            let (paid, after) = try await store.payments.settlePayment(
                start.payment.id, outcome: .captured(reference: "ch_1"), at: Date(), traceparent: testTraceparent)
            #expect(paid.status == .captured && paid.providerReference == "ch_1" && after.status == .paid)
            _ = try await store.payments.settlePayment(
                start.payment.id, outcome: .captured(reference: "ch_1"), at: Date())  // repeated
            let replay = try await store.payments.startPayment(request, at: Date())
            #expect(replay.isReplay && replay.payment.id == paid.id && replay.payment.status == .captured)
            let paidEvents = try await store.pendingEvents().filter { $0.eventType == "invoice.paid" }
            #expect(paidEvents.count == 1 && paidEvents.first?.traceparent == testTraceparent)
            #expect(try await store.payments.payments(invoiceID: invoice.id).map(\.status) == [.captured])
        },
        ContractCheck("a failed payment may be retried under its key; a declined one is final") { store in
            let (_, invoice) = try await invoiced(store)
            let request = payment(of: invoice)
            let first = try await store.payments.startPayment(request, at: Date())
            let (failed, _) = try await store.payments.settlePayment(
                first.payment.id, outcome: .failed(reason: "down"), at: Date())
            #expect(failed.status == .failed)
            let retry = try await store.payments.startPayment(request, at: Date())
            #expect(retry.isReplay && retry.payment.status == .pending && retry.payment.id == first.payment.id)
            let (declined, after) = try await store.payments.settlePayment(
                first.payment.id, outcome: .declined(reason: "insufficient_funds"), at: Date())
            #expect(
                declined.status == .declined && declined.failureReason == "insufficient_funds"
                    && after.status == .issued)
            #expect(try await store.payments.startPayment(request, at: Date()).payment.status == .declined)
        },
        ContractCheck("money captured for a voided invoice is owed back once, and its refund is announced once") {
            store in
            let (created, invoice) = try await invoiced(store)
            let start = try await store.payments.startPayment(payment(of: invoice), at: Date())
            // The cancellation lands while the provider is charging.
            #expect(try await store.invoices.cancelOrders([try cancellation(of: created)]) == 0)
            let (captured, after) = try await store.payments.settlePayment(
                start.payment.id, outcome: .captured(reference: "ch_2"), at: Date())
            #expect(captured.status == .captured && after.status == .void)
            let now = Date()
            let owed = try await store.payments.claimRefunds(limit: 10, lease: .seconds(60), at: now)
            #expect(owed.map(\.id).contains(captured.id))
            #expect(
                !(try await store.payments.claimRefunds(limit: 10, lease: .seconds(60), at: now)).map(\.id).contains(
                    captured.id), "leased")
            try await store.payments.recordRefund(captured.id, at: Date())
            try await store.payments.recordRefund(captured.id, at: Date())
            #expect(try await store.payments.payments(invoiceID: invoice.id).map(\.status) == [.refunded])
            #expect(
                !(try await store.payments.claimRefunds(
                    limit: 10, lease: .seconds(60), at: now.addingTimeInterval(120))).map(\.id).contains(captured.id))
            let events = try await store.pendingEvents()
            #expect(events.filter { $0.eventType == "invoice.refunded" }.count == 1)
            #expect(events.filter { $0.eventType == "invoice.paid" }.isEmpty)
        },
        ContractCheck("a paid invoice whose order is cancelled is voided with its refund due") { store in
            let (created, invoice) = try await invoiced(store)
            let start = try await store.payments.startPayment(payment(of: invoice), at: Date())
            _ = try await store.payments.settlePayment(
                start.payment.id, outcome: .captured(reference: "ch_3"), at: Date())
            #expect(try await store.invoices.cancelOrders([try cancellation(of: created)]) == 1)
            let event = try EventCoding.makeDecoder().decode(
                CloudEvent<InvoiceVoided>.self,
                from: try #require(try await store.pendingEvents().last { $0.eventType == "invoice.voided" }).body)
            #expect(event.data.refundDue == invoice.total)
            #expect(
                try await store.payments.claimRefunds(limit: 10, lease: .seconds(1), at: Date()).map(\.id).contains(
                    start.payment.id))
        },
        ContractCheck("a capture for an invoice paid by another payment is kept once and the other owed back") {
            store in
            let (_, invoice) = try await invoiced(store)
            let first = try await store.payments.startPayment(payment(of: invoice), at: Date())
            _ = try await store.payments.settlePayment(
                first.payment.id, outcome: .failed(reason: "payment_provider_error"), at: Date())
            let second = try await store.payments.startPayment(payment(of: invoice), at: Date())
            let (paid, after) = try await store.payments.settlePayment(
                second.payment.id, outcome: .captured(reference: "ch_kept"), at: Date())
            #expect(paid.refundDue == nil && after.status == .paid)
            // The provider captured the first after all: recorded, never refused (no 23505), owed back.
            let (late, still) = try await store.payments.settlePayment(
                first.payment.id, outcome: .captured(reference: "ch_late"), at: Date())
            #expect(late.status == .captured && late.refundDue == .invoicePaidByAnother && still.status == .paid)
            let owed = try await store.payments.claimRefunds(limit: 10, lease: .seconds(60), at: Date())
            #expect(owed.map(\.id) == [first.payment.id])
            #expect(try await store.pendingEvents().filter { $0.eventType == "invoice.paid" }.count == 1)
        },
        ContractCheck("the client's retry of a pending payment holds the reconciler off for another call") { store in
            let (_, invoice) = try await invoiced(store)
            let request = payment(of: invoice)
            let start = try await store.payments.startPayment(request, at: millisecondNow(plus: -600))
            let retried = try await store.payments.startPayment(request, at: millisecondNow())
            #expect(
                retried.isReplay && retried.payment.status == .pending
                    && retried.payment.updatedAt > start.payment.updatedAt)
            let now = Date()
            #expect(
                try await store.payments.claimStalePayments(
                    updatedBefore: now.addingTimeInterval(-30), limit: 5, lease: .seconds(30), at: now
                ).isEmpty)
        },
        ContractCheck(
            "an invoice unpaid at its due date is closed once as overdue, unless paid or a payment is in flight"
        ) { store in
            let issuedAt = millisecondNow(plus: -7200)
            var orders: [OrderCreated] = []
            for _ in 0..<4 { orders.append(order()) }
            try await store.invoices.invoice(try orders.map { try toInvoice($0) }, terms: terms(0), at: issuedAt)
            var invoices: [Invoice] = []
            for order in orders {
                invoices.append(try #require(try await store.invoices.invoice(orderID: order.orderID)))
            }
            let (unpaid, paid, inFlight, cancelled) = (invoices[0], invoices[1], invoices[2], invoices[3])
            // Paid and in flight before the due date (an hour after issue).
            let paying = try await store.payments.startPayment(payment(of: paid), at: issuedAt)
            _ = try await store.payments.settlePayment(
                paying.payment.id, outcome: .captured(reference: "ch_on_time"), at: issuedAt)
            let pending = try await store.payments.startPayment(payment(of: inFlight), at: issuedAt)
            try await store.invoices.cancelOrders([try cancellation(of: orders[3])])
            // Too late: refused before any sweep.
            await #expect { try await store.payments.startPayment(payment(of: unpaid), at: Date()) } throws: {
                ($0 as? InvoiceStoreError)?.code == .overdue
            }
            let now = Date()
            #expect(try await store.invoices.closeOverdue(at: now, limit: 10) == 1)
            #expect(try await store.invoices.closeOverdue(at: now, limit: 10) == 0, "closed once")
            let closed = try #require(try await store.invoices.invoice(id: unpaid.id))
            #expect(closed.status == .overdue && closed.overdueAt != nil)
            #expect(
                try await store.invoices.invoice(id: paid.id)?.status == .paid,
                "paid in time: never closed for lateness")
            #expect(try await store.invoices.invoice(id: cancelled.id)?.status == .void)
            #expect(
                try await store.invoices.invoice(id: inFlight.id)?.status == .issued,
                "a payment in flight holds it open")
            let events = try await store.pendingEvents().filter { $0.eventType == "invoice.overdue" }
            #expect(events.count == 1)
            let event = try EventCoding.makeDecoder().decode(
                CloudEvent<InvoiceOverdue>.self, from: try #require(events.first).body)
            #expect(event.data.invoiceID == unpaid.id && event.data.orderID == orders[0].orderID)
            // The payment in flight fails: the next sweep closes its invoice too.
            _ = try await store.payments.settlePayment(
                pending.payment.id, outcome: .failed(reason: "payment_provider_error"), at: Date())
            #expect(try await store.invoices.closeOverdue(at: Date(), limit: 10) == 1)
            // Its order's cancellation voids an overdue invoice, with nothing to refund.
            #expect(try await store.invoices.cancelOrders([try cancellation(of: orders[0])]) == 0)
            #expect(try await store.invoices.invoice(id: unpaid.id)?.status == .void)
        },
        ContractCheck("a failed answer is recorded only while no later attempt was sent under the key") { store in
            let (_, invoice) = try await invoiced(store)
            let request = payment(of: invoice)
            let first = try await store.payments.startPayment(request, at: Date())
            #expect(first.payment.attempt == 1)
            // The client asks again while the first call is still out: a second attempt.
            let second = try await store.payments.startPayment(request, at: Date())
            #expect(second.payment.attempt == 2 && second.payment.status == .pending)
            // The first attempt's "nothing charged" cannot speak for the second, which may charge.
            let (still, _) = try await store.payments.settlePayment(
                first.payment.id, outcome: .failed(reason: "payment_provider_unavailable"), at: Date(),
                traceparent: nil, attempt: 1)
            #expect(still.status == .pending)
            let (failed, _) = try await store.payments.settlePayment(
                first.payment.id, outcome: .failed(reason: "payment_provider_unavailable"), at: Date(),
                traceparent: nil, attempt: 2)
            #expect(failed.status == .failed)
            // Retried under its key: a third attempt.
            #expect(try await store.payments.startPayment(request, at: Date()).payment.attempt == 3)
        },
        ContractCheck("payments an earlier version failed on a guess are claimed once per lease until settled") {
            store in
            let (_, invoice) = try await invoiced(store)
            let start = try await store.payments.startPayment(payment(of: invoice), at: Date())
            _ = try await store.payments.settlePayment(
                start.payment.id, outcome: .failed(reason: PaymentProcessor.guessedFailure), at: Date())
            let now = Date()
            #expect(
                try await store.payments.claimGuessedFailures(limit: 5, lease: .seconds(30), at: now).map(\.id) == [
                    start.payment.id
                ])
            #expect(
                try await store.payments.claimGuessedFailures(limit: 5, lease: .seconds(30), at: now).isEmpty,
                "leased")
            let (cancelled, _) = try await store.payments.settlePayment(
                start.payment.id, outcome: .cancelled, at: Date())
            #expect(cancelled.status == .cancelled)
            #expect(
                try await store.payments.claimGuessedFailures(
                    limit: 5, lease: .seconds(30), at: now.addingTimeInterval(60)
                ).isEmpty)
        },
        ContractCheck("payments pending since before the cutoff are claimed once per lease") { store in
            let (_, invoice) = try await invoiced(store)
            let start = try await store.payments.startPayment(payment(of: invoice), at: millisecondNow(plus: -60))
            let now = Date()
            #expect(
                try await store.payments.claimStalePayments(
                    updatedBefore: now.addingTimeInterval(-120), limit: 5, lease: .seconds(30), at: now
                ).isEmpty)
            let stale = try await store.payments.claimStalePayments(
                updatedBefore: now.addingTimeInterval(-30), limit: 5, lease: .seconds(30), at: now)
            #expect(stale.map(\.id).contains(start.payment.id))
            #expect(
                !(try await store.payments.claimStalePayments(
                    updatedBefore: now, limit: 5, lease: .seconds(30), at: now)).map(\.id).contains(start.payment.id))
        },
    ]
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
