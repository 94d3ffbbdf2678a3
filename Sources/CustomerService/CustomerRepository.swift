public import Foundation
public import ServiceKit

/// customer-service's storage. Every mutating call is atomic: the state change, the events
/// it announces (outbox) and, for events it applies, their inbox entries commit together.
public protocol CustomerRepository: Sendable {
    /// Registers a customer and queues `customer.created`. Throws
    /// ``CustomerStoreError/Code/emailTaken`` if another customer has the e-mail address, and
    /// ``CustomerStoreError/Code/idTaken`` if a customer has the id.
    func create(_ customer: NewCustomer, id: UUID, at time: Date, traceparent: String?) async throws -> Customer

    /// The customer, if it exists.
    func customer(id: UUID) async throws -> Customer?

    /// A page of customers, oldest first.
    func customers(page: PageRequest) async throws -> [Customer]

    /// Counts orders: applies each `order.created` once (by event id), adding one to its
    /// customer's `orders_count` and queuing one `customer.updated` per changed customer.
    /// Throws ``PoisonMessage`` if a customer does not exist.
    func countOrders(_ orders: [CountedOrder]) async throws

    /// Registers `customers` if there are none yet (first start), queuing `customer.created`
    /// for each; returns whether it did.
    func seedIfEmpty(_ customers: [NewCustomer], ids: [UUID], at time: Date) async throws -> Bool
}

/// One `order.created` to count.
public struct CountedOrder: Sendable {
    /// The inbox entry: the event id and type.
    public var event: IncomingEvent
    /// The customer who ordered.
    public var customerID: UUID
    /// Carried into the resulting `customer.updated`.
    public var traceparent: String?

    /// Creates the entry.
    public init(event: IncomingEvent, customerID: UUID, traceparent: String?) {
        self.event = event
        self.customerID = customerID
        self.traceparent = traceparent
    }
}
