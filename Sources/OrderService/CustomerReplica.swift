package import Contracts
package import Foundation
package import ServiceKit

/// order-service's copy of the customers customer-service announces (`customer.*`): what an
/// order is checked against before it is placed.
package protocol CustomerReplica: Sendable {
    /// The replica's copy of a customer.
    func customer(id: UUID) async throws -> CustomerSnapshot?

    /// Stores customer snapshots in the replica, each only if newer than what it holds;
    /// `events` are the inbox entries of the events they came from (none for an HTTP lookup).
    func saveCustomers(_ customers: [CustomerSnapshot], events: [IncomingEvent]) async throws
}
