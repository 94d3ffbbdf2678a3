import Contracts
public import ServiceKit

/// Keeps the customer replica: `customer.created` and `customer.updated` from
/// `order-service.customer-events`, applied only when newer than the replica's copy, so
/// duplicated or reordered events never move it backwards.
public struct CustomerEventsHandler: EventHandler {
    private let repository: any OrderRepository

    /// Creates the handler over `repository`.
    public init(repository: any OrderRepository) {
        self.repository = repository
    }

    public var accepts: [AcceptedEvent] { [AcceptedEvent(CustomerCreated.self), AcceptedEvent(CustomerUpdated.self)] }

    public func apply(_ events: [IncomingEvent]) async throws {
        let customers = try events.map { event in
            event.type == EventType.customerCreated.name
                ? try event.decode(CustomerCreated.self).data.customer
                : try event.decode(CustomerUpdated.self).data.customer
        }
        try await repository.saveCustomers(customers, events: events)
    }
}
