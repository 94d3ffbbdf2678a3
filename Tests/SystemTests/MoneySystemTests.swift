import Audit
import Contracts
import Foundation
import MercatoTesting
import Postgres
import Testing

/// The money attacks of the security review, played end to end against the real services: a
/// charge still in flight when the reconciler looks, an invoice paid on time whose payment news
/// is held up past the due date, and a second payment while the first one's outcome is unknown.
/// Each ends with the books balanced.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct MoneySystemTests {
    /// The provider holds a charge for 15 s, far longer than the gateway waits for it (1 s, one
    /// attempt): the client gets `503 payment_outcome_unknown` while the provider goes on. The
    /// reconciler finds the payment stale (after the longest call plus 5 s) while the charge is
    /// still held, and must not settle it `failed` on a guess: it cancels the key, so the
    /// late capture takes nothing and the customer's next payment is the only charge.
    @Test func aChargeStillInFlightIsNeverKeptUnrecordedNorChargedTwice() async throws {
        let system = try await SagaSystemTests.start([
            "PAYMENT_SIM_SLOW_MS": "15000", "PAYMENT_GATEWAY_TIMEOUT_MS": "1000", "PAYMENT_GATEWAY_ATTEMPTS": "1",
        ])
        let (order, invoice, total) = try await system.invoicedOrder(customer: SagaSystemTests.customer)
        var (status, body) = try await system.pay(invoice, amount: total, key: "in-flight", token: "tok_slow")
        #expect(status == 503 && system.errorCode(body) == "payment_outcome_unknown", "\(String(describing: body))")
        // While its outcome is unknown, a second payment is refused: it could charge twice.
        (status, body) = try await system.pay(invoice, amount: total, key: "impatient")
        #expect(status == 409 && system.errorCode(body) == "payment_in_progress", "\(String(describing: body))")
        // The reconciler cancels the key at the provider before the held charge lands.
        try await system.eventually("the payment is cancelled at the provider") {
            try await system.paymentStatuses(invoice) == ["cancelled"]
        }
        (status, body) = try await system.pay(invoice, amount: total, key: "in-flight", token: "tok_slow")
        #expect(status == 409 && system.errorCode(body) == "payment_cancelled", "its key answers what it came to")
        // The customer pays again, as a checkout page does.
        (status, body) = try await system.pay(invoice, amount: total, key: "second-try")
        #expect(status == 201, "\(String(describing: body))")
        // The held charge reaches the provider: refused, nothing taken.
        try await system.waitForLog(.invoice, containing: "a charge reached a cancelled key")
        let charges = try await system.database(.invoice).query(
            "SELECT status, count(*), coalesce(sum(amount), 0) FROM simulated_provider_charges GROUP BY status ORDER BY status"
        ).map {
            (
                try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1),
                Money(try $0.decode(Decimal.self, at: 2))
            )
        }
        #expect(
            charges.map(\.0) == ["cancelled", "captured"] && charges[1].1 == 1 && charges[1].2 == Money(total),
            "\(charges)")
        #expect(try await system.paymentStatuses(invoice).sorted() == ["cancelled", "captured"])
        let audit = try await system.drain(accepted: [UUID(uuidString: order)!])
        #expect(audit.clean && audit.states["paid"] == 1, "\(audit)")
        await system.shutdown()
    }

    /// Lateness is invoice-service's to decide. The invoice is paid in time, but order-service
    /// does not hear of it until well after the due date (the binding that brings it
    /// `invoice.paid` is gone meanwhile, as in a partial broker outage). Nothing may cancel the
    /// order for lateness meanwhile: it ends paid, its invoice paid, nothing refunded. Then
    /// the other side of the rule: an unpaid invoice is closed as overdue at its due date, a
    /// payment after that is refused, and the order is cancelled on `invoice.overdue`.
    @Test func anInvoicePaidOnTimeIsNeverVoidedForLatenessAndAnUnpaidOneIsClosed() async throws {
        let system = try await SagaSystemTests.start(["PAYMENT_DUE_SECONDS": "4"])
        let (order, invoice, total) = try await system.invoicedOrder(customer: SagaSystemTests.customer)
        // Every queue's binding: with one left, the event is routed (to that queue alone) and
        // the publisher has nothing to hold back. (A binding lost for one of several
        // consumers is what the services' readiness checks of the topology report.)
        for queue in [QueueName.orderInvoicePayments, QueueName.catalogInvoicePaid] {
            try await system.unbind(queue, from: ExchangeName.invoices, routingKey: EventType.invoicePaid.name)
        }
        var (status, body) = try await system.pay(invoice, amount: total, key: "on-time")
        #expect(status == 201, "\(String(describing: body))")
        // Past the due date, with several sweeps of both services since: order-service still
        // has it invoiced (its invoice.paid waits in invoice-service's outbox), and nothing
        // decided it was late.
        let (late, unpaidInvoice, unpaidTotal) = try await system.invoicedOrder(customer: SagaSystemTests.customer)
        // Closed as overdue, then void once its order is cancelled on invoice.overdue (both
        // may happen between two looks).
        try await system.eventually("the unpaid invoice's order is cancelled for it") {
            try await system.orderStatus(late) == "cancelled"
        }
        #expect(try await system.orderField(late, "cancel_reason") as? String == "payment_overdue")
        try await system.eventually("the overdue invoice is void") {
            try await system.invoiceStatus(unpaidInvoice) == "void"
        }
        let (_, closed) = try await system.request(.invoice, "GET", "/invoices/\(unpaidInvoice)")
        #expect(
            (closed as? [String: Any])?["overdue_at"] != nil,
            "closed as overdue before it was voided: \(String(describing: closed))")
        (status, body) = try await system.pay(unpaidInvoice, amount: unpaidTotal, key: "too-late")
        #expect(
            status == 409 && ["invoice_overdue", "invoice_void"].contains(system.errorCode(body) ?? ""),
            "\(String(describing: body))")
        #expect(try await system.orderStatus(order) == "invoiced", "not told it is paid, and nothing cancelled it")
        #expect(try await system.invoiceStatus(invoice) == "paid")
        try await system.rebind()
        try await system.eventually("order-service hears of the payment") {
            try await system.orderStatus(order) == "paid"
        }
        let audit = try await system.drain(accepted: [UUID(uuidString: order)!, UUID(uuidString: late)!])
        #expect(
            audit.clean && audit.states["paid"] == 1 && audit.states["cancelled"] == 1 && audit.refunds == 0, "\(audit)"
        )
        await system.shutdown()
    }
}
