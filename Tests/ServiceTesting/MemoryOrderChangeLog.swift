package import Foundation
package import OrderService

/// The live view's change log in memory, for unit tests: the changes ``MemoryOrderStore``
/// recorded, each with its customer as ``MemoryCustomerReplica`` holds it now (as
/// PostgreSQL's join shows it). It passes the same contract suite as `PostgresOrderChangeLog`.
package struct MemoryOrderChangeLog: OrderChangeLog {
    /// Where the changes are recorded.
    package let store: MemoryOrderStore
    /// Where their customers are looked up.
    package let replica: MemoryCustomerReplica

    /// The change log of `store`, with customers from `replica`.
    package init(store: MemoryOrderStore, replica: MemoryCustomerReplica) {
        self.store = store
        self.replica = replica
    }

    /// Changes are numbered as they are made: nothing to settle.
    package func settleChanges() async throws -> Bool { true }

    package func lastChangeSequence() async throws -> Int64 { Int64(await store.changeLog.count) }

    package func changes(after sequence: Int64, customerID: UUID?, limit: Int) async throws -> [OrderChange] {
        let log = await store.changeLog
        let start = Int(max(0, min(sequence, Int64(log.count))))
        let picked = log[start...].lazy.filter { customerID == nil || $0.order.customerID == customerID }.prefix(limit)
        return try await withCustomers(Array(picked))
    }

    package func history(of orderID: UUID) async throws -> [OrderChange] {
        try await withCustomers(await store.changeLog.filter { $0.order.id == orderID })
    }

    package func statusCounts(customerID: UUID?) async throws -> OrderStatusCounts {
        await store.statusCounts(customerID: customerID)
    }

    private func withCustomers(_ changes: [OrderChange]) async throws -> [OrderChange] {
        var joined: [OrderChange] = []
        for var change in changes {
            change.customer = try await replica.customer(id: change.order.customerID)
            joined.append(change)
        }
        return joined
    }
}
