import OrderService
package import ServiceKit

/// order-service's three in-memory stores over one "database": the change log reads the
/// store's changes and the replica's customers, as PostgreSQL's joins do.
package struct MemoryOrderStorage: Sendable {
    /// The orders.
    package let store: MemoryOrderStore
    /// The customer replica.
    package let replica: MemoryCustomerReplica
    /// The change log of ``store``'s changes.
    package let changeLog: MemoryOrderChangeLog
    /// The product replica.
    package let products: MemoryProductReplica

    /// Empty storage; `stamp` marks the events the store queues, `outbox` receives them.
    package init(
        stamp: EventStamp = EventStamp(serviceName: "order-service"), outbox: MemoryOutboxStore = MemoryOutboxStore()
    ) {
        store = MemoryOrderStore(stamp: stamp, outbox: outbox)
        replica = MemoryCustomerReplica()
        changeLog = MemoryOrderChangeLog(store: store, replica: replica)
        products = MemoryProductReplica()
    }

    /// The events the store queued.
    package var outbox: MemoryOutboxStore { store.outbox }
}
