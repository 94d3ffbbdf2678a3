package import Contracts
package import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where order-service asks about a product its replica does not hold yet.
package protocol ProductDirectory: Sendable {
    /// The product, `nil` if catalog-service does not know it; throws
    /// ``DirectoryError`` (`forbidden`) if the token may not read the catalog, and any
    /// error if it cannot be asked (down, slow).
    func product(sku: String, token: String) async throws -> ProductSnapshot?
}

/// catalog-service's `GET /products/{sku}`, with a short timeout: a product added a moment
/// ago, whose `product.created` has not reached the replica, can be ordered at once.
package struct HTTPProductDirectory: ProductDirectory {
    private let client: PeerServiceClient

    /// Creates the directory for catalog-service at `baseURL`.
    package init(baseURL: URL, timeout: Duration) {
        client = PeerServiceClient(baseURL: baseURL, timeout: timeout)
    }

    package func product(sku: String, token: String) async throws -> ProductSnapshot? {
        let (data, status) = try await client.get(["products", sku], token: token)
        switch status {
        // The API's product is a superset of the snapshot the events carry.
        case 200: return try EventCoding.makeDecoder().decode(ProductSnapshot.self, from: data)
        case 404: return nil
        case 401, 403: throw DirectoryError(code: .forbidden)
        default: throw URLError(.badServerResponse)
        }
    }
}
