package import Contracts
package import Foundation
import OrderService
package import ServiceKit

/// order-service's customer replica in memory, for unit tests; it passes the same contract
/// suite as `PostgresCustomerReplica`.
package actor MemoryCustomerReplica: CustomerReplica {
    private var customers: [UUID: CustomerSnapshot] = [:]
    private var inbox: Set<String> = []

    /// An empty replica.
    package init() {}

    package func customer(id: UUID) async throws -> CustomerSnapshot? { customers[id] }

    package func saveCustomers(_ snapshots: [CustomerSnapshot], events: [IncomingEvent]) async throws {
        let applicable =
            events.isEmpty ? snapshots : zip(events, snapshots).filter { inbox.insert($0.0.id).inserted }.map(\.1)
        for customer in applicable where (customers[customer.customerID]?.version ?? .min) < customer.version {
            customers[customer.customerID] = customer
        }
    }
}
