import Foundation
import Postgres

/// What the three databases (and the simulated payment provider's books) say about the
/// orders a client saw accepted: every one is stored once, invoiced once unless it was
/// cancelled first, counted in its customer's `orders_count` unless cancelled, and in one
/// state that all three services agree on, with the money where the states say it is.
///
/// "Lost", "doubled" and "inconsistent" are counted from the databases, never from logs: an
/// accepted order that is missing, uninvoiced or uncounted is lost; an extra invoice or an
/// extra count is doubled; an order paid at one service and cancelled at another, money
/// captured for no paid invoice, or a cancelled order's payment not refunded is inconsistent.
struct Audit: CustomStringConvertible, Sendable {
    /// Orders the client saw answered 201.
    var accepted = 0
    /// Orders stored, including any whose 201 the client never saw (a timeout mid-commit).
    var stored = 0
    /// Accepted but not stored.
    var missing = 0
    /// Stored, not cancelled, and without exactly one invoice or not marked invoiced by order-service.
    var uninvoiced = 0
    /// Orders not reflected in `orders_count` (summed over customers where it is short).
    var uncounted = 0
    /// Invoices beyond the first of an order, or of no stored order.
    var extraInvoices = 0
    /// Counts beyond the orders not cancelled (summed over customers where `orders_count` is too high).
    var overcounted = 0
    /// Invoice numbers issued twice.
    var duplicateNumbers = 0
    /// Whether invoice numbers run 1…n without a hole (void invoices keep theirs).
    var numbersGapless = true
    /// Outbox rows of any service not yet published.
    var unsentOutbox = 0
    /// Orders whose state order-service, invoice-service and the payments disagree on.
    var inconsistent = 0
    /// Cancelled orders with money captured and not refunded.
    var unrefunded = 0
    /// Money captured at the provider (not refunded) minus money on paid invoices.
    var capturedMinusPaid: Decimal = 0
    /// Orders per final state: created, invoiced, paid, cancelled.
    var states: [String: Int] = [:]
    /// Payments refunded.
    var refunds = 0

    var lost: Int { missing + uninvoiced + uncounted }
    var doubled: Int { extraInvoices + overcounted + duplicateNumbers }
    /// Settled and correct: nothing lost, doubled, inconsistent or stuck.
    var clean: Bool {
        lost == 0 && doubled == 0 && unsentOutbox == 0 && numbersGapless && inconsistent == 0 && unrefunded == 0 && capturedMinusPaid == 0
    }

    var description: String {
        "accepted \(accepted), stored \(stored), missing \(missing), uninvoiced \(uninvoiced), uncounted \(uncounted), "
            + "extra invoices \(extraInvoices), overcounted \(overcounted), duplicate numbers \(duplicateNumbers), "
            + "numbers gapless \(numbersGapless), unsent outbox \(unsentOutbox), inconsistent \(inconsistent), unrefunded \(unrefunded), "
            + "captured - paid \(capturedMinusPaid), refunds \(refunds), states \(states.sorted { $0.key < $1.key })"
    }
}

extension MercatoSystem {
    /// Audits the databases against `accepted`.
    func audit(accepted: Set<UUID>) async throws -> Audit {
        var audit = Audit()
        audit.accepted = accepted.count
        let orderRows = try await database(.order).query("SELECT id, customer_id, invoice_id, status, refunded_at FROM orders")
        var storedIDs = Set<UUID>()
        var markedInvoiced = Set<UUID>()
        var statusOf: [UUID: String] = [:]
        var refundRecorded = Set<UUID>()
        var ordersPerCustomer: [UUID: Int] = [:]
        for row in orderRows {
            let id = try row.decode(UUID.self, "id")
            let status = try row.decode(String.self, "status")
            storedIDs.insert(id)
            statusOf[id] = status
            audit.states[status, default: 0] += 1
            if try row.decode(UUID?.self, "invoice_id") != nil { markedInvoiced.insert(id) }
            if try row.decode(Date?.self, "refunded_at") != nil { refundRecorded.insert(id) }
            if status != "cancelled" { ordersPerCustomer[try row.decode(UUID.self, "customer_id"), default: 0] += 1 }
        }
        audit.stored = storedIDs.count
        audit.missing = accepted.subtracting(storedIDs).count

        let invoiceRows = try await database(.invoice).query("SELECT id, order_id, number, status, total FROM invoices")
        var invoicesPerOrder: [UUID: Int] = [:]
        var invoiceStatus: [UUID: String] = [:]
        var orderOfInvoice: [UUID: UUID] = [:]
        var numbers: [String] = []
        var paidTotal: Decimal = 0
        for row in invoiceRows {
            let orderID = try row.decode(UUID.self, "order_id")
            let status = try row.decode(String.self, "status")
            invoicesPerOrder[orderID, default: 0] += 1
            invoiceStatus[orderID] = status
            orderOfInvoice[try row.decode(UUID.self, "id")] = orderID
            numbers.append(try row.decode(String.self, "number"))
            if status == "paid" { paidTotal += try row.decode(Decimal.self, "total") }
        }
        let payments = try await database(.invoice).query("SELECT invoice_id, status, refund_due FROM payments")
        var captured: [UUID: Int] = [:]
        var refunded: [UUID: Int] = [:]
        var refundsDue = 0
        for row in payments {
            guard let orderID = orderOfInvoice[try row.decode(UUID.self, "invoice_id")] else { continue }
            switch try row.decode(String.self, "status") {
            case "captured" where try row.decode(String?.self, "refund_due") != nil: refundsDue += 1
            case "captured": captured[orderID, default: 0] += 1
            case "refunded": refunded[orderID, default: 0] += 1
            default: break
            }
        }
        audit.unrefunded += refundsDue
        audit.refunds = refunded.values.reduce(0, +)
        audit.uninvoiced = storedIDs.filter { id in
            statusOf[id] != "cancelled" && (invoicesPerOrder[id] != 1 || !markedInvoiced.contains(id))
        }.count
        audit.extraInvoices = invoicesPerOrder.reduce(0) { sum, entry in
            sum + (storedIDs.contains(entry.key) ? max(0, entry.value - 1) : entry.value)
        }
        for id in storedIDs {
            let invoice = invoiceStatus[id]
            let consistent: Bool
            switch statusOf[id] {
            // A second capture of a paid invoice is refunded, never kept.
            case "paid": consistent = invoice == "paid" && captured[id] == 1
            case "cancelled":
                consistent = (invoice == nil || invoice == "void") && captured[id] == nil
                    && (refunded[id] == nil) == !refundRecorded.contains(id)
            default: consistent = (invoice == nil || invoice == "issued") && captured[id] == nil && refunded[id] == nil
            }
            if !consistent { audit.inconsistent += 1 }
        }
        audit.duplicateNumbers = numbers.count - Set(numbers).count
        let sequence = numbers.compactMap { $0.split(separator: "-").last.flatMap { Int($0) } }.sorted()
        audit.numbersGapless = sequence.isEmpty || sequence == Array(1...sequence.count)
        let provider = try await database(.invoice).query(
            "SELECT coalesce(sum(amount) FILTER (WHERE status = 'captured'), 0) FROM simulated_provider_charges")
        audit.capturedMinusPaid = try provider[0].decode(Decimal.self, at: 0) - paidTotal

        let counts = try await database(.customer).query("SELECT id, orders_count FROM customers")
        for row in counts {
            let counted = try row.decode(Int.self, "orders_count")
            let actual = ordersPerCustomer[try row.decode(UUID.self, "id"), default: 0]
            audit.uncounted += max(0, actual - counted)
            audit.overcounted += max(0, counted - actual)
        }
        for service in Service.allCases {
            audit.unsentOutbox += try await database(service).query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0]
                .decode(Int.self, at: 0)
        }
        return audit
    }

    /// Audits until the system has drained (nothing lost, unrefunded, inconsistent or stuck)
    /// or `timeout` passes, and returns the last audit. Doubling cannot drain away, so it
    /// does not wait for that.
    func drain(accepted: Set<UUID>, timeout: Duration = .seconds(120)) async throws -> Audit {
        let deadline = ContinuousClock.now + timeout
        var audit = try await self.audit(accepted: accepted)
        while !(audit.lost == 0 && audit.unsentOutbox == 0 && audit.inconsistent == 0 && audit.unrefunded == 0 && audit.capturedMinusPaid == 0),
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(250))
            audit = try await self.audit(accepted: accepted)
        }
        return audit
    }
}
