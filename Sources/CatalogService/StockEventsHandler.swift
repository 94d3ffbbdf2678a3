import Contracts
import Foundation
package import ServiceKit

/// Keeps the stock in step with the orders: `order.created` reserves an order's lines (all or
/// none), `order.cancelled` gives them back, `invoice.paid` sells them. Each is applied once
/// per event, whatever order they arrive in (``StockLedger``).
package struct StockEventsHandler: EventHandler {
    private let stock: any StockStore
    package let accepts: [AcceptedEvent]

    private init(stock: any StockStore, accepts: [AcceptedEvent]) {
        self.stock = stock
        self.accepts = accepts
    }

    /// The handler of `catalog-service.order-events`: `order.created` and `order.cancelled`.
    package static func orderEvents(stock: any StockStore) -> StockEventsHandler {
        StockEventsHandler(
            stock: stock, accepts: [AcceptedEvent(OrderCreated.self), AcceptedEvent(OrderCancelled.self)])
    }

    /// The handler of `catalog-service.invoice-paid`: `invoice.paid`.
    package static func payments(stock: any StockStore) -> StockEventsHandler {
        StockEventsHandler(stock: stock, accepts: [AcceptedEvent(InvoicePaid.self)])
    }

    package func apply(_ events: [IncomingEvent]) async throws {
        let entries = try events.map { event -> StockEvent in
            switch event.type {
            case EventType.orderCreated.name:
                let order = try event.decode(OrderCreated.self).data
                if let defect = order.defect { throw PoisonMessage(defect) }
                return StockEvent(reserving: order, event: event)
            case EventType.orderCancelled.name:
                return StockEvent(
                    event: event, orderID: try event.decode(OrderCancelled.self).data.orderID, change: .release)
            default:
                return StockEvent(event: event, orderID: try event.decode(InvoicePaid.self).data.orderID, change: .sell)
            }
        }
        _ = try await stock.apply(entries, at: Date())
    }
}
