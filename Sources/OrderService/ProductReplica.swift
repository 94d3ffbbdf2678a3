package import Contracts
package import ServiceKit

/// order-service's copy of the products catalog-service announces (`product.*`): what an
/// order's lines are priced from and checked against before it is placed.
package protocol ProductReplica: Sendable {
    /// The replica's copies of the products with these SKUs (those it holds).
    func products(skus: [String]) async throws -> [String: ProductSnapshot]

    /// Stores product snapshots, each only if newer than what the replica holds; `events` are
    /// the inbox entries of the events they came from (none: looked up over HTTP).
    func saveProducts(_ products: [ProductSnapshot], events: [IncomingEvent]) async throws

    /// Adds deliveries (`stock.replenished`: units by SKU) to what the replica shows as
    /// restocked, once per event.
    func recordReplenishments(_ deliveries: [(sku: String, units: Int)], events: [IncomingEvent]) async throws

    /// The products' stock for the live page, by SKU, at most `limit`.
    func stock(limit: Int) async throws -> [StockLevel]
}
