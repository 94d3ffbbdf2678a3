package import Contracts
package import Foundation
package import ServiceKit

/// catalog-service's reservations: what each order holds of the stock. Every call applies
/// ``StockLedger`` to each order under the locks of the products involved (taken in SKU
/// order, so two orders for the same products never deadlock), once per event (inbox), so
/// concurrent orders for the last units can never both get them. What it decided is
/// announced in the same transaction (``StockEvent/announcements(of:products:stamp:at:)``).
package protocol StockStore: Sendable {
    /// Applies each order's event (reserve, release, sell), in order, once per event; returns
    /// what each did, in order (a repeat's outcome says it changed nothing).
    func apply(_ events: [StockEvent], at time: Date) async throws -> [StockLedger.Outcome]

    /// Where an order's reservation is, and what it holds (nothing for none).
    func reservation(of orderID: UUID) async throws -> (state: StockLedger.State, lines: [String: Int])?
}

/// One order's news for the stock: the inbox entry, the order and what happened to it.
package struct StockEvent: Sendable {
    /// The inbox entry.
    package var event: IncomingEvent
    /// The order.
    package var orderID: UUID
    /// What happened.
    package var change: StockLedger.Event
    /// The order as `order.created` announced it, for a reservation: what `stock.reserved`
    /// and `stock.rejected` carry on.
    package var order: OrderCreated?

    /// Creates the entry.
    package init(event: IncomingEvent, orderID: UUID, change: StockLedger.Event, order: OrderCreated? = nil) {
        self.event = event
        self.orderID = orderID
        self.change = change
        self.order = order
    }

    /// The reservation `order.created` asks for: its lines by SKU (lines of orders placed
    /// before the catalog carry none and reserve nothing).
    package init(reserving order: OrderCreated, event: IncomingEvent) {
        let lines = order.items.compactMap { line in line.sku.map { (sku: $0, quantity: line.quantity) } }
        self.init(
            event: event, orderID: order.orderID, change: .reserve(StockLedger.quantities(lines)), order: order)
    }

    /// The SKUs the event touches, given what the order holds.
    func skus(holding lines: [String: Int]) -> Set<String> {
        if case .reserve(let wanted) = change { return Set(wanted.keys).union(lines.keys) }
        return Set(lines.keys)
    }

    /// What the order's outcome announces: `stock.reserved` or `stock.rejected` for a
    /// reservation decided now; nothing for a repeat, a release or a sale (their products'
    /// `product.updated` say what changed).
    func announcement(of outcome: StockLedger.Outcome, stamp: EventStamp, at time: Date) throws -> OutboxMessage? {
        guard outcome.changed, let order, case .reserve = change else { return nil }
        switch outcome.state {
        case .reserved:
            return try stamp.message(
                StockReserved(order, at: time), subject: orderID, time: time, traceparent: event.traceparent)
        case .rejected:
            return try stamp.message(
                StockRejected(
                    orderID: orderID, customerID: order.customerID, shortages: outcome.shortages, rejectedAt: time),
                subject: orderID, time: time, traceparent: event.traceparent)
        default:
            return nil
        }
    }

    /// Every announcement of a batch: each order's, then one `product.updated` per product
    /// whose stock changed (`products` as they are after it, each one version on), so a batch of
    /// orders for one product announces it once.
    package static func announcements(
        of applied: [(StockEvent, StockLedger.Outcome)], products: [Product], stamp: EventStamp, at time: Date
    ) throws -> [OutboxMessage] {
        try applied.compactMap { try $0.0.announcement(of: $0.1, stamp: stamp, at: time) }
            + products.map { try stamp.message(ProductUpdated(product: $0.snapshot), subject: $0.id, time: time) }
    }
}
