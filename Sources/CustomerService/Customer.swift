package import Contracts
package import Foundation

/// A customer as customer-service stores it.
package struct Customer: Sendable, Hashable {
    /// The customer's id.
    package var id: UUID
    /// Full name.
    package var name: String
    /// E-mail address, unique (ignoring case).
    package var email: String
    /// Postal address.
    package var address: String
    /// Orders counted from `order.created`.
    package var ordersCount: Int
    /// Grows by one with every change; published with every snapshot.
    package var version: Int
    /// When the customer was registered.
    package var createdAt: Date
    /// When the customer last changed.
    package var updatedAt: Date

    /// Creates a customer.
    package init(
        id: UUID, name: String, email: String, address: String, ordersCount: Int, version: Int, createdAt: Date,
        updatedAt: Date
    ) {
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
    package var snapshot: CustomerSnapshot {
        CustomerSnapshot(
            customerID: id, name: name, email: email, address: address, ordersCount: ordersCount, version: version,
            updatedAt: updatedAt)
    }
}
