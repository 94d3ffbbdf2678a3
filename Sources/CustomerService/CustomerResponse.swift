import Contracts
import Foundation

/// A customer as the HTTP API shows it.
struct CustomerResponse: Encodable, Sendable {
    var id: UUID
    var name: String
    var email: String
    var address: String
    var ordersCount: Int
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    init(_ customer: Customer) {
        id = customer.id
        name = customer.name
        email = customer.email
        address = customer.address
        ordersCount = customer.ordersCount
        version = customer.version
        createdAt = customer.createdAt
        updatedAt = customer.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, email, address
        case ordersCount = "orders_count"
        case version
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
