public import Contracts
public import Foundation

/// A customer as customer-service stores it.
public struct Customer: Sendable, Hashable {
    /// The customer's id.
    public var id: UUID
    /// Full name.
    public var name: String
    /// E-mail address, unique (ignoring case).
    public var email: String
    /// Postal address.
    public var address: String
    /// Orders counted from `order.created`.
    public var ordersCount: Int
    /// Grows by one with every change; published with every snapshot.
    public var version: Int
    /// When the customer was registered.
    public var createdAt: Date
    /// When the customer last changed.
    public var updatedAt: Date

    /// Creates a customer.
    public init(id: UUID, name: String, email: String, address: String, ordersCount: Int, version: Int, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.email = email
        self.address = address
        self.ordersCount = ordersCount
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The state published in `customer.created` and `customer.updated`.
    public var snapshot: CustomerSnapshot {
        CustomerSnapshot(
            customerID: id, name: name, email: email, address: address, ordersCount: ordersCount, version: version, updatedAt: updatedAt)
    }
}
