package import Foundation

/// The customers a new installation starts with, so an order can be placed at once. Their
/// ids are fixed so the README's walkthrough can name them.
package enum CustomerSeeds {
    /// Ids of the seeded customers, in order.
    package static let ids = [
        UUID(uuidString: "c0ffee00-0000-4000-8000-000000000001")!,
        UUID(uuidString: "c0ffee00-0000-4000-8000-000000000002")!,
        UUID(uuidString: "c0ffee00-0000-4000-8000-000000000003")!,
    ]

    /// The seeded customers.
    package static let customers = [
        NewCustomer(name: "Ada Lovelace", email: "ada@example.com", address: "12 St James's Square, London"),
        NewCustomer(name: "Grace Hopper", email: "grace@example.com", address: "1 Navy Yard, Arlington"),
        NewCustomer(name: "Alan Turing", email: "alan@example.com", address: "78 High Street, Bletchley"),
    ]
}
