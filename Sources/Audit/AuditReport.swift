/// What an audit found: the discrepancies, what was in flight while it looked, and what it
/// counted.
public struct AuditReport: Sendable, CustomStringConvertible {
    /// Discrepancies that nothing in flight can explain: the books do not balance.
    public var discrepancies: [Discrepancy] = []
    /// Discrepancies that events, payments or refunds still in flight may yet resolve; each is
    /// one once nothing is in flight any more, or once what it is about has not changed for
    /// longer than news takes.
    public var unsettled: [Discrepancy] = []
    /// Orders whose changes an earlier version numbered out of order (before order-service's
    /// migration 15): reported, not a discrepancy of this version.
    public var history: [Discrepancy] = []
    /// What was on its way while the audit looked.
    public var inFlight = InFlight()
    /// Orders per status.
    public var states: [String: Int] = [:]
    /// Orders audited across the services (those placed before the audit began).
    public var ordersAudited = 0
    /// Orders placed while the audit ran: too new to be anywhere else yet, checked next time.
    public var tooNew = 0
    /// Invoices and payments audited.
    public var invoicesAudited = 0
    /// Payments audited.
    public var paymentsAudited = 0
    /// Payments refunded.
    public var refunds = 0
    /// Products whose stock was audited (`nil`: the catalog was not).
    public var productsAudited: Int?
    /// Orders the catalog reserved stock for, and those it refused.
    public var reservations: (reserved: Int, rejected: Int) = (0, 0)
    /// Messages in each dead-letter queue that holds any: reported, not a discrepancy (an
    /// operator decides, `mercato dlq`).
    public var deadLetters: [String: Int] = [:]
    /// How long the audit took.
    public var duration: Duration = .zero

    /// Creates an empty report.
    public init() {}

    /// Nothing wrong and nothing still settling.
    public var isClean: Bool { discrepancies.isEmpty && unsettled.isEmpty }

    /// How many discrepancies (settled or not) are of `kind`.
    public func count(_ kind: Discrepancy.Code.Kind) -> Int {
        (discrepancies + unsettled).filter { $0.code.kind == kind }.count
    }

    /// `12 products' stock (40 orders reserved, 3 rejected), `, or nothing when the catalog
    /// was not audited.
    var stock: String {
        guard let productsAudited else { return "" }
        return
            "\(productsAudited) products' stock (\(reservations.reserved) orders reserved, \(reservations.rejected) rejected), "
    }

    /// `850 ms`, `12.3 s`.
    static func text(of duration: Duration) -> String {
        let milliseconds = Int(duration / .milliseconds(1))
        return milliseconds < 1000 ? "\(milliseconds) ms" : "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s"
    }

    /// One line: what was audited, and how it came out.
    public var summary: String {
        let states = states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        let verdict =
            discrepancies.isEmpty
            ? (unsettled.isEmpty ? "balanced" : "\(unsettled.count) unsettled") : "\(discrepancies.count) discrepancies"
        return
            "\(verdict): \(ordersAudited) orders (\(states.isEmpty ? "none" : states)), \(invoicesAudited) invoices, \(paymentsAudited) payments, "
            + "\(refunds) refunds, \(stock)dead letters \(deadLetters.values.reduce(0, +)), in \(Self.text(of: duration))"
    }

    public var description: String {
        var lines: [String] = []
        for discrepancy in discrepancies { lines.append("DISCREPANCY \(discrepancy)") }
        for discrepancy in unsettled { lines.append("UNSETTLED \(discrepancy) (in flight: may still settle)") }
        for discrepancy in history { lines.append("HISTORY \(discrepancy) (numbered by an earlier version)") }
        for (queue, count) in deadLetters.sorted(by: { $0.key < $1.key }) {
            lines.append("DEAD LETTERS \(queue): \(count)")
        }
        let states = states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        lines.append(
            "audited \(ordersAudited) orders (\(states.isEmpty ? "none" : states)), \(invoicesAudited) invoices, \(paymentsAudited) payments, "
                + "\(refunds) refunds, \(stock.isEmpty ? "" : String(stock.dropLast(2)) + " ")in \(Self.text(of: duration))"
                + (tooNew > 0 ? "; \(tooNew) orders placed meanwhile left for the next audit" : ""))
        lines.append("in flight: \(inFlight)")
        lines.append(
            discrepancies.isEmpty
                ? (unsettled.isEmpty
                    ? "OK: the books balance" : "UNSETTLED: \(unsettled.count) discrepancies may still settle")
                : "FAILED: \(discrepancies.count) discrepancies")
        return lines.joined(separator: "\n")
    }
}

/// What is on its way while an audit looks: news in outboxes and queues, payments whose
/// outcome is unknown, and refunds owed but not made.
public struct InFlight: Sendable, Hashable, CustomStringConvertible {
    /// Unpublished outbox rows per service.
    public var unsentOutbox: [String: Int] = [:]
    /// Messages (ready or delivered and not acknowledged) in each consumer or retry queue that
    /// holds any; `nil` if the broker could not be asked.
    public var queuedMessages: [String: Int]? = [:]
    /// Payments pending at the provider.
    public var pendingPayments = 0
    /// Captured payments owed back and not refunded yet.
    public var refundsDue = 0
    /// Orders with changes not numbered yet.
    public var unnumberedChanges = 0

    /// Creates an empty state.
    public init() {}

    /// Nothing on its way as far as the audit could see (queues it could not ask count as
    /// empty): what a settling audit waits for.
    public var isDrained: Bool {
        unsentOutbox.values.allSatisfy { $0 == 0 } && (queuedMessages?.values.allSatisfy { $0 == 0 } ?? true)
            && pendingPayments == 0
            && refundsDue == 0 && unnumberedChanges == 0
    }

    /// Nothing on its way: every discrepancy left is one.
    public var isQuiet: Bool {
        unsentOutbox.values.allSatisfy { $0 == 0 } && (queuedMessages?.values.allSatisfy { $0 == 0 } ?? false)
            && pendingPayments == 0
            && refundsDue == 0 && unnumberedChanges == 0
    }

    public var description: String {
        let outbox = unsentOutbox.values.reduce(0, +)
        let queued = queuedMessages.map { "\($0.values.reduce(0, +))" } ?? "unknown (no broker)"
        return
            "\(outbox) unsent events, \(queued) queued messages, \(pendingPayments) pending payments, \(refundsDue) refunds due, "
            + "\(unnumberedChanges) orders with unnumbered changes"
    }
}
