import Contracts
package import Foundation
package import ServiceKit

/// catalog-service's products. Every mutating call is atomic: the change and the event that
/// announces it (outbox) commit together.
package protocol ProductStore: Sendable {
    /// Adds a product (version 1) and queues `product.created`. Throws
    /// ``CatalogStoreError/Code/skuTaken`` if the SKU exists.
    func create(_ product: NewProduct, at time: Date, traceparent: String?) async throws -> Product

    /// The product, if it exists.
    func product(sku: String) async throws -> Product?

    /// A page of products, oldest first.
    func products(page: PageRequest) async throws -> [Product]

    /// Applies `change` and queues `product.updated` if it changed anything; `nil` if there is
    /// no such product.
    func update(sku: String, _ change: ProductChange, at time: Date, traceparent: String?) async throws -> Product?

    /// Goods received or a stock count, under the product's lock, with `product.updated`;
    /// once per idempotency key: a repeat answers the product as that adjustment left it
    /// (``AdjustedStock/isReplay``), another adjustment under the key throws
    /// ``CatalogStoreError/Code/idempotencyKeyReused``. `nil` if there is no such product.
    func adjustStock(
        sku: String, _ adjustment: StockAdjustment, idempotencyKey: String?, at time: Date, traceparent: String?
    ) async throws -> AdjustedStock?

    /// Adds `products` if there are none yet (first start), a millisecond apart in the order
    /// given, queuing `product.created` for each; returns whether it did.
    func seedIfEmpty(_ products: [NewProduct], at time: Date) async throws -> Bool
}

/// What ``ProductStore/adjustStock(sku:_:idempotencyKey:at:traceparent:)`` did.
package struct AdjustedStock: Sendable, Hashable {
    /// The product after the adjustment (for a replay, as it is now).
    package var product: Product
    /// Whether an earlier request with the same key made the adjustment.
    package var isReplay: Bool

    /// Creates the result.
    package init(product: Product, isReplay: Bool) {
        self.product = product
        self.isReplay = isReplay
    }
}

extension Product {
    /// A new product from its request, version 1.
    package init(_ new: NewProduct, at time: Date) {
        self.init(
            id: UUID.timeOrdered(at: time), sku: new.sku, name: new.name, price: new.price, onHand: new.stockOnHand,
            reserved: 0,
            reorderPoint: new.reorderPoint, reorderQuantity: new.reorderQuantity, active: new.active, version: 1,
            createdAt: time, updatedAt: time)
    }
}
