import Contracts
public import ServiceKit

/// Counts orders: `order.created` from `customer-service.order-created` adds one to the
/// customer's `orders_count`, exactly once per event.
public struct OrderCountingHandler: EventHandler {
    private let repository: any CustomerRepository

    /// Creates the handler over `repository`.
    public init(repository: any CustomerRepository) {
        self.repository = repository
    }

    public var accepts: [AcceptedEvent] { [AcceptedEvent(OrderCreated.self)] }

    public func apply(_ events: [IncomingEvent]) async throws {
        let orders = try events.map { event in
            let order = try event.decode(OrderCreated.self)
            return CountedOrder(event: event, customerID: order.data.customerID, traceparent: event.traceparent)
        }
        try await repository.countOrders(orders)
    }
}
