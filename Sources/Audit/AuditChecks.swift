public import Foundation

/// The audit's questions, asked of one snapshot: no I/O, so every rule is tested on snapshots
/// made up to break it.
///
/// A discrepancy that events or payments still on their way could resolve (an invoice not
/// issued yet, a count not made yet, a refund owed) is *unsettled* while anything is in
/// flight, and a discrepancy once nothing is. One that nothing in flight can explain (a
/// capture no payment accounts for, a hole in the invoice numbers, changes numbered out of
/// order) is a discrepancy at once.
public enum AuditChecks {
    /// Audits `snapshot`; `accepted` are orders a client saw accepted (`nil`: not known), and
    /// `inFlight` what was on its way while the snapshot was read. A discrepancy that could
    /// still settle is one all the same once what it is about has not changed for `stuckAfter`:
    /// no news takes that long, so a busy system cannot hide it for ever.
    public static func run(
        _ snapshot: AuditSnapshot, accepted: Set<UUID>? = nil, inFlight: InFlight, stuckAfter: Duration = .seconds(600)
    ) -> AuditReport {
        var report = AuditReport()
        report.inFlight = inFlight
        var findings = Findings(quiet: inFlight.isQuiet, takenAt: snapshot.takenAt, stuckAfter: stuckAfter)

        let orders = Dictionary(snapshot.orders.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // Orders placed or changed after the first snapshot was taken are not judged: the
        // other services' snapshots are older than their news.
        let settledOrders = snapshot.orders.filter { $0.updatedAt < snapshot.takenAt }
        report.ordersAudited = settledOrders.count
        report.tooNew = snapshot.orders.count - settledOrders.count
        for order in snapshot.orders { report.states[order.status, default: 0] += 1 }
        report.invoicesAudited = snapshot.invoices.count
        report.paymentsAudited = snapshot.payments.count
        report.refunds = snapshot.payments.filter { $0.status == "refunded" }.count

        if let accepted {
            for id in accepted.subtracting(orders.keys).sorted(by: { $0.uuidString < $1.uuidString }) {
                findings.definite(.orderMissing, ["order": id], "accepted (201) but not stored by order-service")
            }
        }

        let invoicesByOrder = Dictionary(grouping: snapshot.invoices, by: \.orderID)
        let paymentsByInvoice = Dictionary(grouping: snapshot.payments, by: \.invoiceID)
        let busyInvoices = Set(
            snapshot.payments.filter { $0.status == "pending" || ($0.status == "captured" && $0.refundDue != nil) }.map(
                \.invoiceID))

        // Every order invoiced once, in the state order-service has it, and counted as such.
        for order in settledOrders {
            let news = snapshot.unsentSubjects.contains(order.id) || snapshot.ordersWithQueuedChanges.contains(order.id)
            let invoices = invoicesByOrder[order.id] ?? []
            if invoices.count > 1 {
                findings.definite(
                    .invoicedTwice, [("order", order.id.lowercased)] + invoices.map { ("invoice", $0.id.lowercased) },
                    "\(invoices.count) invoices")
            } else if let invoice = invoices.first {
                let agree: Bool =
                    switch (order.status, invoice.status) {
                    case ("invoiced", "issued"), ("paid", "paid"), ("cancelled", "void"): true
                    default: false
                    }
                if !agree {
                    findings.settling(
                        .statusMismatch, ["order": order.id, "invoice": invoice.id],
                        "order \(order.status), invoice \(invoice.status)",
                        busy: news || snapshot.unsentSubjects.contains(invoice.id) || busyInvoices.contains(invoice.id),
                        since: order.updatedAt)
                }
            } else if order.status != "cancelled" {
                // A cancelled order may never have been invoiced: cancelled before its invoice.
                findings.settling(
                    .notInvoiced, ["order": order.id], "order \(order.status) has no invoice", busy: news,
                    since: order.updatedAt)
            }
            let expected = order.status == "cancelled" ? "uncounted" : "counted"
            let tally = snapshot.tallies[order.id]
            if tally?.state != expected {
                findings.settling(
                    .notCounted, ["order": order.id, "customer": order.customerID],
                    "customer-service has it \(tally?.state ?? "not counted"), expected \(expected)", busy: news,
                    since: order.updatedAt)
            }
        }

        // Each customer's orders_count: the orders not cancelled.
        var placed: [UUID: Int] = [:]
        for order in settledOrders where order.status != "cancelled" { placed[order.customerID, default: 0] += 1 }
        let changedMeanwhile = Set(snapshot.orders.filter { $0.updatedAt >= snapshot.takenAt }.map(\.customerID))
        for (customer, count) in snapshot.ordersCounts.sorted(by: { $0.key.uuidString < $1.key.uuidString })
        where !changedMeanwhile.contains(customer) {
            let expected = placed[customer, default: 0]
            guard count != expected else { continue }
            findings.settling(
                count > expected ? .overcounted : .undercounted, ["customer": customer],
                "orders_count \(count), orders not cancelled \(expected)", busy: false, since: nil)
        }

        // Invoices: of stored orders, numbered 1…n in each year without reuse.
        for invoice in snapshot.invoices where orders[invoice.orderID] == nil {
            findings.definite(
                .invoiceOfNoOrder, ["invoice": invoice.id, "order": invoice.orderID],
                "invoice \(invoice.number) bills no stored order")
        }
        let numbers = Dictionary(grouping: snapshot.invoices, by: \.number)
        for (number, invoices) in numbers.sorted(by: { $0.key < $1.key }) where invoices.count > 1 {
            findings.definite(
                .numberReused, invoices.map { ("invoice", $0.id.lowercased) },
                "number \(number) used \(invoices.count) times")
        }
        let years = Dictionary(grouping: numbers.keys.compactMap(InvoiceNumber.init), by: \.year)
        for (year, numbers) in years.sorted(by: { $0.key < $1.key }) {
            let sequence = Set(numbers.map(\.sequence))
            let missing = (1...(sequence.max() ?? 0)).filter { !sequence.contains($0) }
            if !missing.isEmpty {
                findings.definite(
                    .numberGap, [("year", "\(year)")],
                    "numbers missing: \(missing.prefix(10).map { InvoiceNumber(year: year, sequence: $0).text }.joined(separator: ", "))"
                        + (missing.count > 10 ? " and \(missing.count - 10) more" : ""))
            }
        }

        // Money: what the provider took for each invoice is what the invoice says, and every
        // capture is a payment's.
        let charges = Dictionary(snapshot.charges.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let paymentKeys = Set(snapshot.payments.map(\.key))
        for invoice in snapshot.invoices {
            let payments = paymentsByInvoice[invoice.id] ?? []
            var net: Decimal = 0
            for payment in payments {
                let charge = charges[payment.key]
                if charge?.status == "captured" { net += charge!.amount }
                let ids: [(String, String)] = [("invoice", invoice.id.lowercased), ("payment", payment.key)]
                switch payment.status {
                // A capture owed back may be refunded at the provider before the payment says
                // so; the one that pays its invoice must still be captured there.
                case "captured"
                where !(payment.refundDue == nil ? ["captured"] : ["captured", "refunded"]).contains(
                    charge?.status ?? ""):
                    findings.definite(
                        payment.refundDue == nil && charge?.status == "refunded"
                            ? .moneyMismatch : .paymentWithoutCapture, ids,
                        "payment captured\(payment.refundDue == nil ? " and kept" : ""), provider has \(charge?.status ?? "no charge")"
                    )
                case "refunded" where charge?.status != "refunded":
                    findings.definite(
                        .moneyMismatch, ids, "payment refunded, provider has \(charge?.status ?? "no charge")")
                case "failed", "declined", "cancelled":
                    if let charge, ["captured", "refunded"].contains(charge.status) {
                        findings.definite(
                            .captureWithoutPayment, ids,
                            "provider \(charge.status) \(charge.amount) for a payment \(payment.status)")
                    }
                default: break
                }
            }
            let expected: Decimal = invoice.status == "paid" ? invoice.total : 0
            if net != expected {
                findings.settling(
                    .moneyMismatch, ["invoice": invoice.id, "order": invoice.orderID],
                    "captured at the provider, not refunded: \(net); invoice \(invoice.status) \(invoice.total) expects \(expected)",
                    busy: busyInvoices.contains(invoice.id), since: payments.map(\.updatedAt).max())
            }
        }
        for charge in snapshot.charges
        where ["captured", "refunded"].contains(charge.status) && !paymentKeys.contains(charge.key) {
            findings.definite(
                .captureWithoutPayment, [("key", charge.key)],
                "provider \(charge.status) \(charge.amount) under a key no payment has")
        }

        // Every order's changes in the order they happened: each moves the order from where
        // the one before left it, and the last leaves it where it is.
        for order in snapshot.orders {
            let changes = snapshot.changes[order.id] ?? []
            var previous: String?
            var inOrder = true
            for change in changes {
                if change.fromStatus != previous {
                    inOrder = false
                    let discrepancy = Discrepancy(
                        .changesOutOfOrder, ids: [("order", order.id.lowercased)],
                        "change \(change.sequence) (\(change.event)) moves it from \(change.fromStatus ?? "nothing"), but the change before left it \(previous ?? "nothing"): \(changes.map(\.event).joined(separator: " → "))"
                    )
                    // Numbered by an earlier version, which numbered by xid alone.
                    if (changes.last?.sequence ?? 0) <= snapshot.changesInOrderSince {
                        report.history.append(discrepancy)
                    } else {
                        findings.definite.append(discrepancy)
                    }
                    break
                }
                previous = change.status
            }
            if inOrder, let last = changes.last?.status, last != order.status,
                !snapshot.ordersWithQueuedChanges.contains(order.id)
            {
                findings.definite(
                    .changesOutOfOrder, ["order": order.id], "its history ends \(last), the order is \(order.status)")
            }
        }

        if let products = snapshot.products {
            auditStock(snapshot, products: products, orders: orders, settledOrders: settledOrders, into: &findings)
            report.productsAudited = products.count
            report.reservations = (
                snapshot.reservations.values.filter { ["reserved", "sold"].contains($0.state) }.count,
                snapshot.reservations.values.filter { $0.state == "rejected" }.count
            )
        }

        report.discrepancies = findings.definite
        report.unsettled = findings.unsettled
        return report
    }

    /// Discrepancies sorted into those that are and those that may yet settle.
    struct Findings {
        let quiet: Bool
        let takenAt: Date
        let stuckAfter: Duration
        var definite: [Discrepancy] = []
        var unsettled: [Discrepancy] = []

        mutating func definite(_ code: Discrepancy.Code, _ ids: KeyValuePairs<String, UUID>, _ message: String) {
            definite(code, ids.map { ($0.key, $0.value.lowercased) }, message)
        }

        mutating func definite(_ code: Discrepancy.Code, _ ids: [(String, String)], _ message: String) {
            definite.append(Discrepancy(code, ids: ids.map { (name: $0.0, value: $0.1) }, message))
        }

        /// A discrepancy that may settle while the system is busy (or `busy` says this
        /// entity's news is still on its way) — unless what it is about last changed (`since`)
        /// longer ago than any news takes.
        mutating func settling(
            _ code: Discrepancy.Code, _ ids: KeyValuePairs<String, UUID>, _ message: String, busy: Bool, since: Date?
        ) {
            let discrepancy = Discrepancy(code, ids: ids.map { (name: $0.key, value: $0.value.lowercased) }, message)
            let stuck =
                since.map { takenAt.timeIntervalSince($0) > Double(stuckAfter / .milliseconds(1)) / 1000 } ?? false
            if (quiet && !busy) || stuck { definite.append(discrepancy) } else { unsettled.append(discrepancy) }
        }
    }
}

/// `INV-2026-000042`, taken apart.
struct InvoiceNumber: Hashable {
    var year: Int
    var sequence: Int

    init(year: Int, sequence: Int) {
        self.year = year
        self.sequence = sequence
    }

    init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0] == "INV", let year = Int(parts[1]), let sequence = Int(parts[2]) else {
            return nil
        }
        self.init(year: year, sequence: sequence)
    }

    var text: String {
        let digits = String(sequence)
        return "INV-\(year)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

extension UUID {
    /// The form the services print and store.
    var lowercased: String { uuidString.lowercased() }
}
