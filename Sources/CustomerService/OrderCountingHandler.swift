import Contracts
package import ServiceKit

/// Counts orders placed and not cancelled: `order.created` from `customer-service.order-created`
/// adds one to the customer's `orders_count`, `order.cancelled` from
/// `customer-service.order-cancelled` takes it back, each exactly once per order.
package struct OrderCountingHandler: EventHandler {
    private let repository: any CustomerRepository

    /// Creates the handler over `repository`.
    package init(repository: any CustomerRepository) {
        self.repository = repository
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(OrderCreated.self), AcceptedEvent(OrderCancelled.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        let orders = try events.map { event in
            if event.type == EventType.orderCancelled.name {
                let cancelled = try event.decode(OrderCancelled.self).data
                return CountedOrder(
                    event: event, orderID: cancelled.orderID, customerID: cancelled.customerID, change: .cancelled)
            }
            let order = try event.decode(OrderCreated.self).data
            return CountedOrder(event: event, orderID: order.orderID, customerID: order.customerID, change: .placed)
        }
        try await repository.countOrders(orders)
    }
}
