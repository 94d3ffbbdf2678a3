package import Foundation
package import ServiceKit

/// customer-service's storage. Every mutating call is atomic: the state change, the events
/// it announces (outbox) and, for events it applies, their inbox entries commit together.
package protocol CustomerRepository: Sendable {
    /// Registers a customer and queues `customer.created`. Throws
    /// ``CustomerStoreError/Code/emailTaken`` if another customer has the e-mail address, and
    /// ``CustomerStoreError/Code/idTaken`` if a customer has the id.
    func create(_ customer: NewCustomer, id: UUID, at time: Date, traceparent: String?) async throws -> Customer

    /// The customer, if it exists.
    func customer(id: UUID) async throws -> Customer?

    /// A page of customers, oldest first.
    func customers(page: PageRequest) async throws -> [Customer]

    /// Counts orders placed and not cancelled: applies each `order.created` (+1) and
    /// `order.cancelled` (−1 once the order was counted) once per event and once per order,
    /// whatever order they arrive in, and marks each customer whose count moved for
    /// ``publishCountChanges(limit:)``. Throws ``PoisonMessage`` if a customer does not exist.
    func countOrders(_ orders: [CountedOrder]) async throws

    /// Queues one `customer.updated` (the customer as it is now) for each customer whose
    /// `orders_count` moved since its last one, at most `limit` of them, and returns how many
    /// it queued. Count changes are coalesced this way rather than announced per order: the
    /// only reader of the count outside customer-service is order-service's replica, for
    /// its order responses, and a busy customer's dozens of orders a second would otherwise
    /// each cost an event, a delivery and a transaction. Safe to call from several replicas.
    func publishCountChanges(limit: Int) async throws -> Int

    /// Registers `customers` if there are none yet (first start), queuing `customer.created`
    /// for each; returns whether it did.
    func seedIfEmpty(_ customers: [NewCustomer], ids: [UUID], at time: Date) async throws -> Bool
}

/// One `order.created` or `order.cancelled` to count.
package struct CountedOrder: Sendable {
    /// Whether the order is placed or cancelled.
    package enum Change: String, Sendable {
        /// `order.created`.
        case placed
        /// `order.cancelled`.
        case cancelled
    }

    /// The inbox entry: the event id and type.
    package var event: IncomingEvent
    /// The order.
    package var orderID: UUID
    /// The customer who ordered.
    package var customerID: UUID
    /// What happened to it.
    package var change: Change

    /// Creates the entry.
    package init(event: IncomingEvent, orderID: UUID, customerID: UUID, change: Change = .placed) {
        self.event = event
        self.orderID = orderID
        self.customerID = customerID
        self.change = change
    }
}

/// The tally of one order in `orders_count`: the state machine that makes each order count
/// once and uncount once, whatever order its events arrive in.
package enum OrderTally {
    /// What `orders_count` holds of an order.
    package enum State: String, Sendable, CaseIterable {
        /// Placed and counted.
        case counted
        /// Its cancellation came before its creation: nothing counted, nothing to take back.
        case cancelledFirst = "cancelled_first"
        /// Placed and cancelled: counted and taken back.
        case uncounted
    }

    /// What a batch of fresh events does: the orders whose state changed (with their
    /// customer) and the change to each customer's `orders_count`.
    package struct Batch: Sendable {
        /// Each changed order's customer and new state.
        package var changed: [UUID: (customer: UUID, state: State)] = [:]
        /// The net change to each customer's `orders_count` (customers whose count moved).
        package var counts: [UUID: Int] = [:]
    }

    /// Applies `orders`, in order, to the tally `states` holds: what both repositories write.
    package static func apply(_ orders: [CountedOrder], to states: [UUID: State]) -> Batch {
        var states = states
        var batch = Batch()
        for order in orders {
            let (next, delta) = apply(order.change, to: states[order.orderID])
            guard let next else { continue }
            states[order.orderID] = next
            batch.changed[order.orderID] = (order.customerID, next)
            if delta != 0 { batch.counts[order.customerID, default: 0] += delta }
        }
        batch.counts = batch.counts.filter { $0.value != 0 }
        return batch
    }

    /// The next state and the change to `orders_count` for `change` from `state` (`nil`: no row yet).
    package static func apply(_ change: CountedOrder.Change, to state: State?) -> (next: State?, delta: Int) {
        switch (state, change) {
        case (nil, .placed): (.counted, 1)
        case (nil, .cancelled): (.cancelledFirst, 0)
        case (.counted?, .cancelled): (.uncounted, -1)
        case (.cancelledFirst?, .placed): (.uncounted, 0)
        default: (nil, 0)
        }
    }
}
