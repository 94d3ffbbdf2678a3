import Contracts
public import Foundation
public import ServiceKit

/// customer-service's storage in memory, for unit tests. Its outbox is a
/// ``MemoryOutboxStore`` a relay can publish from.
public actor MemoryCustomerRepository: CustomerRepository {
    private var customers: [UUID: Customer] = [:]
    private var inbox: Set<String> = []
    /// The events queued by the repository.
    public nonisolated let outbox = MemoryOutboxStore()
    private let source: String

    /// Creates an empty repository.
    public init(source: String = "/mercato/customer-service") {
        self.source = source
    }

    public func create(_ new: NewCustomer, id: UUID, at time: Date, traceparent: String?) async throws -> Customer {
        guard !customers.values.contains(where: { $0.email.lowercased() == new.email.lowercased() }) else {
            throw APIError.conflict("email_taken", "a customer with this e-mail address exists", field: "email")
        }
        let customer = Customer(
            id: id, name: new.name, email: new.email, address: new.address, ordersCount: 0, version: 1, createdAt: time, updatedAt: time)
        customers[id] = customer
        outbox.append([try OutboxMessage(
            CloudEvent(source: source, time: time, traceparent: traceparent, data: CustomerCreated(customer: customer.snapshot)),
            appID: "customer-service")])
        return customer
    }

    public func customer(id: UUID) async throws -> Customer? {
        customers[id]
    }

    public func customers(page: PageRequest) async throws -> [Customer] {
        let sorted = customers.values.sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
        let start = page.after.map { after in
            sorted.firstIndex { ($0.createdAt, $0.id.uuidString) > (after.createdAt, after.id.uuidString) } ?? sorted.count
        } ?? 0
        return Array(sorted[start...].prefix(page.limit))
    }

    public func countOrders(_ orders: [CountedOrder]) async throws {
        // Check everything first: like a rolled-back transaction, a failure changes nothing.
        var seen = inbox
        var fresh: [CountedOrder] = []
        for order in orders where seen.insert(order.event.id).inserted { fresh.append(order) }
        if let unknown = fresh.first(where: { customers[$0.customerID] == nil }) {
            throw PoisonMessage("order.created names unknown customer \(unknown.customerID.uuidString.lowercased())")
        }
        inbox = seen
        var changed: [UUID: String?] = [:]
        for order in fresh {
            customers[order.customerID]!.ordersCount += 1
            changed[order.customerID] = order.traceparent
        }
        let now = Date()
        var events: [OutboxMessage] = []
        for (id, traceparent) in changed {
            customers[id]!.version += 1
            customers[id]!.updatedAt = now
            events.append(try OutboxMessage(
                CloudEvent(source: source, time: now, traceparent: traceparent, data: CustomerUpdated(customer: customers[id]!.snapshot)),
                appID: "customer-service"))
        }
        outbox.append(events)
    }

    public func seedIfEmpty(_ seeds: [NewCustomer], ids: [UUID], at time: Date) async throws -> Bool {
        guard customers.isEmpty else { return false }
        for (new, id) in zip(seeds, ids) { _ = try await create(new, id: id, at: time, traceparent: nil) }
        return true
    }
}
