import Contracts
package import ServiceKit

/// Keeps the customer replica: `customer.created` and `customer.updated` from
/// `order-service.customer-events`, applied only when newer than the replica's copy, so
/// duplicated or reordered events never move it backwards.
package struct CustomerEventsHandler: EventHandler {
    private let repository: any OrderRepository

    /// Creates the handler over `repository`.
    package init(repository: any OrderRepository) {
        self.repository = repository
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(CustomerCreated.self), AcceptedEvent(CustomerUpdated.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        let customers = try events.map { event in
            event.type == EventType.customerCreated.name
                ? try event.decode(CustomerCreated.self).data.customer
                : try event.decode(CustomerUpdated.self).data.customer
        }
        try await repository.saveCustomers(customers, events: events)
    }
}
