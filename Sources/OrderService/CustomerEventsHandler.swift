import Contracts
package import ServiceKit

/// Keeps the customer replica: `customer.created` and `customer.updated` from
/// `order-service.customer-events`, applied only when newer than the replica's copy, so
/// duplicated or reordered events never move it backwards.
package struct CustomerEventsHandler: EventHandler {
    private let replica: any CustomerReplica

    /// Creates the handler over `replica`.
    package init(replica: any CustomerReplica) {
        self.replica = replica
    }

    package var accepts: [AcceptedEvent] { [AcceptedEvent(CustomerCreated.self), AcceptedEvent(CustomerUpdated.self)] }

    package func apply(_ events: [IncomingEvent]) async throws {
        let customers = try events.map { event in
            event.type == EventType.customerCreated.name
                ? try event.decode(CustomerCreated.self).data.customer
                : try event.decode(CustomerUpdated.self).data.customer
        }
        try await replica.saveCustomers(customers, events: events)
    }
}
