import Contracts
import Foundation

/// What the dashboard shows, kept up to date change by change on the server so the page gets
/// a few small updates a second however many orders flow: counts per status, how many orders
/// were placed and invoiced since the last update, order→invoice latency over the last
/// minute, and the latest orders as they are now.
struct LiveSummary: Sendable {
    /// How many of the latest orders the table shows.
    static let latestCount = 20

    private var counts: [Order.Status: Int]
    private var created = 0
    private var invoiced = 0
    private var paid = 0
    private var cancelled = 0
    private var latency = LatencyWindow()
    /// The latest orders, newest first.
    private var latest: [Row] = []

    /// Starts from `counts`, which include every change up to their sequence number.
    init(counts: OrderStatusCounts) {
        self.counts = counts.counts
    }

    /// One order in the table.
    struct Row: Encodable, Sendable, Hashable {
        var id: UUID
        var customerID: UUID
        var customerName: String?
        var total: Money
        var status: Order.Status
        var invoiceNumber: String?
        var createdAt: Date
        /// From placing the order to its invoice, once invoiced.
        var invoicedAfterMilliseconds: Double?

        enum CodingKeys: String, CodingKey {
            case id
            case customerID = "customer_id"
            case customerName = "customer_name"
            case total, status
            case invoiceNumber = "invoice_number"
            case createdAt = "created_at"
            case invoicedAfterMilliseconds = "invoiced_after_ms"
        }
    }

    /// The update sent to the page.
    struct Update: Encodable, Sendable {
        var sequence: Int64
        var counts: [String: Int]
        /// Orders placed since the previous update.
        var created: Int
        /// Orders invoiced since the previous update.
        var invoiced: Int
        /// Orders paid since the previous update.
        var paid: Int
        /// Orders cancelled since the previous update.
        var cancelled: Int
        var intervalMilliseconds: Int
        var latency: Latency
        var latest: [Row]

        struct Latency: Encodable, Sendable {
            var p50: Double?
            var p99: Double?
            var count: Int
        }

        enum CodingKeys: String, CodingKey {
            case sequence, counts, created, invoiced, paid, cancelled
            case intervalMilliseconds = "interval_ms"
            case latency = "latency_ms"
            case latest
        }
    }

    /// Moves the summary on by one change.
    mutating func apply(_ change: OrderChange) {
        let milliseconds = max(0, change.order.updatedAt.timeIntervalSince(change.order.createdAt) * 1000)
        if let previous = change.previousStatus { counts[previous, default: 0] -= 1 }
        counts[change.kind.status, default: 0] += 1
        switch change.kind {
        case .created: created += 1
        case .invoiced:
            invoiced += 1
            latency.record(milliseconds: milliseconds, at: change.at)
        case .paid: paid += 1
        case .cancelled: cancelled += 1
        case .refunded: break
        }
        let row = Row(
            id: change.order.id, customerID: change.order.customerID, customerName: change.customer?.name,
            total: change.order.total,
            status: change.order.status, invoiceNumber: change.order.invoiceNumber, createdAt: change.order.createdAt,
            invoicedAfterMilliseconds: change.kind == .invoiced ? milliseconds : nil)
        if let index = latest.firstIndex(where: { $0.id == row.id }) {
            // A later change (paid, cancelled) keeps what the row already showed.
            var row = row
            row.invoicedAfterMilliseconds = row.invoicedAfterMilliseconds ?? latest[index].invoicedAfterMilliseconds
            row.invoiceNumber = row.invoiceNumber ?? latest[index].invoiceNumber
            latest[index] = row
        } else if change.kind == .created {
            latest.insert(row, at: 0)
            if latest.count > Self.latestCount { latest.removeLast() }
        }
    }

    /// The update to send now, at `sequence`; the per-update counts start again from zero.
    mutating func update(sequence: Int64, interval: Duration, now: Date) -> Update {
        defer {
            created = 0
            invoiced = 0
            paid = 0
            cancelled = 0
        }
        let milliseconds = interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000
        return Update(
            sequence: sequence, counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }),
            created: created,
            invoiced: invoiced, paid: paid, cancelled: cancelled, intervalMilliseconds: Int(milliseconds),
            latency: .init(
                p50: latency.percentile(0.5, now: now), p99: latency.percentile(0.99, now: now),
                count: latency.count(now: now)),
            latest: latest)
    }
}
