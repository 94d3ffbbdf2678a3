package import Foundation
package import ServiceKit

/// catalog-service's reservations: what each order holds of the stock. Every call applies
/// ``StockLedger`` to each order under the locks of the products involved (taken in SKU
/// order, so two orders for the same products never deadlock), once per event (inbox), so
/// concurrent orders for the last units can never both get them.
package protocol StockStore: Sendable {
    /// Applies each order's event (reserve, release, sell), in order, once per event; returns
    /// what each did, in order (a repeat's outcome says it changed nothing).
    func apply(_ events: [StockEvent]) async throws -> [StockLedger.Outcome]

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

    /// Creates the entry.
    package init(event: IncomingEvent, orderID: UUID, change: StockLedger.Event) {
        self.event = event
        self.orderID = orderID
        self.change = change
    }

    /// The SKUs the event touches, given what the order holds.
    func skus(holding lines: [String: Int]) -> Set<String> {
        if case .reserve(let wanted) = change { return Set(wanted.keys).union(lines.keys) }
        return Set(lines.keys)
    }
}
