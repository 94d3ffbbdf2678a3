import Foundation
import Postgres

/// What the three databases say about the orders a client saw accepted: the promise is that
/// every one is stored once, counted once in its customer's `orders_count` and invoiced once.
///
/// "Lost" and "doubled" are counted from the databases, never from logs: an accepted order
/// that is missing, uninvoiced or uncounted is lost; an extra invoice or an extra count is
/// doubled.
struct Audit: CustomStringConvertible, Sendable {
    /// Orders the client saw answered 201.
    var accepted = 0
    /// Orders stored, including any whose 201 the client never saw (a timeout mid-commit).
    var stored = 0
    /// Accepted but not stored.
    var missing = 0
    /// Stored but without exactly one invoice, or not marked invoiced by order-service.
    var uninvoiced = 0
    /// Orders not reflected in `orders_count` (summed over customers where it is short).
    var uncounted = 0
    /// Invoices beyond the first of an order, or of no stored order.
    var extraInvoices = 0
    /// Counts beyond the orders (summed over customers where `orders_count` is too high).
    var overcounted = 0
    /// Invoice numbers issued twice.
    var duplicateNumbers = 0
    /// Whether invoice numbers run 1…n without a hole.
    var numbersGapless = true
    /// Outbox rows of any service not yet published.
    var unsentOutbox = 0

    var lost: Int { missing + uninvoiced + uncounted }
    var doubled: Int { extraInvoices + overcounted + duplicateNumbers }
    /// Settled and correct: nothing lost, nothing doubled, nothing stuck.
    var clean: Bool { lost == 0 && doubled == 0 && unsentOutbox == 0 && numbersGapless }

    var description: String {
        "accepted \(accepted), stored \(stored), missing \(missing), uninvoiced \(uninvoiced), uncounted \(uncounted), "
            + "extra invoices \(extraInvoices), overcounted \(overcounted), duplicate numbers \(duplicateNumbers), "
            + "numbers gapless \(numbersGapless), unsent outbox \(unsentOutbox)"
    }
}

extension MercatoSystem {
    /// Audits the databases against `accepted`.
    func audit(accepted: Set<UUID>) async throws -> Audit {
        var audit = Audit()
        audit.accepted = accepted.count
        let orderRows = try await database(.order).query("SELECT id, customer_id, invoice_id FROM orders")
        var storedIDs = Set<UUID>()
        var markedInvoiced = Set<UUID>()
        var ordersPerCustomer: [UUID: Int] = [:]
        for row in orderRows {
            let id = try row.decode(UUID.self, "id")
            storedIDs.insert(id)
            if try row.decode(UUID?.self, "invoice_id") != nil { markedInvoiced.insert(id) }
            ordersPerCustomer[try row.decode(UUID.self, "customer_id"), default: 0] += 1
        }
        audit.stored = storedIDs.count
        audit.missing = accepted.subtracting(storedIDs).count

        let invoiceRows = try await database(.invoice).query("SELECT order_id, number FROM invoices")
        var invoicesPerOrder: [UUID: Int] = [:]
        var numbers: [String] = []
        for row in invoiceRows {
            invoicesPerOrder[try row.decode(UUID.self, "order_id"), default: 0] += 1
            numbers.append(try row.decode(String.self, "number"))
        }
        audit.uninvoiced = storedIDs.filter { invoicesPerOrder[$0] != 1 || !markedInvoiced.contains($0) }.count
        audit.extraInvoices = invoicesPerOrder.reduce(0) { sum, entry in
            sum + (storedIDs.contains(entry.key) ? max(0, entry.value - 1) : entry.value)
        }
        audit.duplicateNumbers = numbers.count - Set(numbers).count
        let sequence = numbers.compactMap { $0.split(separator: "-").last.flatMap { Int($0) } }.sorted()
        audit.numbersGapless = sequence.isEmpty || sequence == Array(1...sequence.count)

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

    /// Audits until the system has drained (nothing lost or stuck) or `timeout` passes, and
    /// returns the last audit. Doubling cannot drain away, so it does not wait for that.
    func drain(accepted: Set<UUID>, timeout: Duration = .seconds(120)) async throws -> Audit {
        let deadline = ContinuousClock.now + timeout
        var audit = try await self.audit(accepted: accepted)
        while !(audit.lost == 0 && audit.unsentOutbox == 0), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            audit = try await self.audit(accepted: accepted)
        }
        return audit
    }
}
