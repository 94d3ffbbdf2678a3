import Contracts
package import CustomerService
package import Foundation
package import ServiceKit

/// customer-service's storage in memory, for unit tests; it passes the same contract suite
/// as `PostgresCustomerRepository`. Its outbox is a ``MemoryOutboxStore`` a relay can
/// publish from.
package actor MemoryCustomerRepository: CustomerRepository {
    private var customers: [UUID: Customer] = [:]
    private var inbox: Set<String> = []
    private var tally: [UUID: OrderTally.State] = [:]
    private var countChanged: Set<UUID> = []
    /// The events queued by the repository.
    package nonisolated let outbox: MemoryOutboxStore
    private let stamp: EventStamp

    /// Creates an empty repository; `stamp` marks the events it queues, `outbox` receives them.
    package init(
        stamp: EventStamp = EventStamp(serviceName: "customer-service"), outbox: MemoryOutboxStore = MemoryOutboxStore()
    ) {
        self.stamp = stamp
        self.outbox = outbox
    }

    package func create(_ new: NewCustomer, id: UUID, at time: Date, traceparent: String?) async throws -> Customer {
        guard customers[id] == nil else { throw CustomerStoreError(.idTaken) }
        guard !customers.values.contains(where: { $0.email.lowercased() == new.email.lowercased() }) else {
            throw CustomerStoreError(.emailTaken)
        }
        let customer = Customer(
            id: id, name: new.name, email: new.email, address: new.address, ordersCount: 0, version: 1, createdAt: time,
            updatedAt: time)
        let event = try stamp.message(
            CustomerCreated(customer: customer.snapshot), subject: id, time: time, traceparent: traceparent)
        customers[id] = customer
        outbox.append([event])
        return customer
    }

    package func customer(id: UUID) async throws -> Customer? {
        customers[id]
    }

    package func customers(page: PageRequest) async throws -> [Customer] {
        page.page(of: customers.values) { PageCursor(time: $0.createdAt, id: $0.id) }
    }

    package func countOrders(_ orders: [CountedOrder]) async throws {
        // Check everything first: like a rolled-back transaction, a failure changes nothing.
        var seen = inbox
        var fresh: [CountedOrder] = []
        for order in orders where seen.insert(order.event.id).inserted { fresh.append(order) }
        let unknown = Set(fresh.map(\.customerID).filter { customers[$0] == nil })
        if !unknown.isEmpty {
            let type = fresh.first { unknown.contains($0.customerID) }?.event.type ?? "order.created"
            throw PoisonMessage(
                "\(type) names unknown customer \(unknown.map { $0.uuidString.lowercased() }.sorted().joined(separator: ", "))"
            )
        }
        let batch = OrderTally.apply(fresh, to: tally)
        var states = tally
        for (order, change) in batch.changed { states[order] = change.state }
        let now = Date()
        for (id, count) in batch.counts {
            customers[id]!.ordersCount += count
            customers[id]!.version += 1
            customers[id]!.updatedAt = now
            countChanged.insert(id)
        }
        inbox = seen
        tally = states
    }

    package func publishCountChanges(limit: Int) async throws -> Int {
        let due = countChanged.sorted { $0.uuidString < $1.uuidString }.prefix(limit)
        let events = try due.map { id in
            try stamp.message(
                CustomerUpdated(customer: customers[id]!.snapshot), subject: id, time: customers[id]!.updatedAt)
        }
        countChanged.subtract(due)
        outbox.append(events)
        return events.count
    }

    package func seedIfEmpty(_ seeds: [NewCustomer], ids: [UUID], at time: Date) async throws -> Bool {
        guard customers.isEmpty else { return false }
        for (new, id) in zip(seeds, ids) { _ = try await create(new, id: id, at: time, traceparent: nil) }
        return true
    }
}
