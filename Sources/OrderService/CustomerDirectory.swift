package import Contracts
package import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where order-service asks about a customer its replica does not hold yet.
package protocol CustomerDirectory: Sendable {
    /// The customer, `nil` if customer-service does not know them (or will not show them to
    /// the holder of `token`); throws ``DirectoryError`` if the token lacks the scope,
    /// and any error if it cannot be asked (down, slow).
    func customer(id: UUID, token: String) async throws -> CustomerSnapshot?
}

/// customer-service or catalog-service refused to answer.
package struct DirectoryError: Error, Sendable, Equatable {
    /// What it refused.
    package struct Code: Hashable, Sendable {
        let name: String
        /// The caller's token may not read customers or products (401 or 403).
        package static let forbidden = Code(name: "forbidden")
    }

    /// What it refused.
    package var code: Code
}

/// customer-service's `GET /customers/{id}`, with a short timeout: a customer created a
/// moment ago, whose `customer.created` has not reached the replica, can order at once.
package struct HTTPCustomerDirectory: CustomerDirectory {
    private let client: PeerServiceClient

    /// Creates the directory for customer-service at `baseURL`.
    package init(baseURL: URL, timeout: Duration) {
        client = PeerServiceClient(baseURL: baseURL, timeout: timeout)
    }

    private struct Response: Decodable {
        var id: UUID
        var name: String
        var email: String
        var address: String
        var ordersCount: Int
        var version: Int
        var updatedAt: Date

        enum CodingKeys: String, CodingKey {
            case id, name, email, address, version
            case ordersCount = "orders_count"
            case updatedAt = "updated_at"
        }
    }

    package func customer(id: UUID, token: String) async throws -> CustomerSnapshot? {
        let (data, status) = try await client.get(["customers", id.uuidString.lowercased()], token: token)
        switch status {
        case 200:
            let customer = try EventCoding.makeDecoder().decode(Response.self, from: data)
            return CustomerSnapshot(
                customerID: customer.id, name: customer.name, email: customer.email, address: customer.address,
                ordersCount: customer.ordersCount, version: customer.version, updatedAt: customer.updatedAt)
        case 404:
            return nil
        case 401, 403:
            throw DirectoryError(code: .forbidden)
        default:
            throw URLError(.badServerResponse)
        }
    }
}
