package import CatalogService
import Contracts
package import Foundation
package import ServiceKit

/// catalog-service's products and reservations in memory, for unit tests; it passes the same
/// contract suites as `PostgresProductStore` and `PostgresStockStore`. One actor is both
/// stores because a reservation changes products in the same step, as one PostgreSQL
/// transaction does; being an actor, each call runs alone: the row locks are implicit.
package actor MemoryProductStore: ProductStore, StockStore {
    private var products: [String: Product] = [:]
    private var reservations: [UUID: StockBatch.Holding] = [:]
    private var inbox: Set<String> = []
    /// Adjustments made under an idempotency key: the SKU and the canonical request.
    private var adjustments: [String: (sku: String, request: String)] = [:]
    /// The events queued by the store.
    package nonisolated let outbox: MemoryOutboxStore
    private let stamp: EventStamp

    /// Creates an empty store; `stamp` marks the events it queues, `outbox` receives them.
    package init(
        stamp: EventStamp = EventStamp(serviceName: "catalog-service"), outbox: MemoryOutboxStore = MemoryOutboxStore()
    ) {
        self.stamp = stamp
        self.outbox = outbox
    }

    package func create(_ new: NewProduct, at time: Date, traceparent: String?) async throws -> Product {
        guard products[new.sku] == nil else {
            throw CatalogStoreError(.skuTaken, "a product with SKU \(new.sku) exists")
        }
        let product = Product(new, at: time)
        let event = try stamp.message(
            ProductCreated(product: product.snapshot), subject: product.id, time: time, traceparent: traceparent)
        products[product.sku] = product
        outbox.append([event])
        return product
    }

    package func product(sku: String) async throws -> Product? { products[sku] }

    package func products(page: PageRequest) async throws -> [Product] {
        page.page(of: Array(products.values)) { PageCursor(time: $0.createdAt, id: $0.id) }
    }

    package func update(sku: String, _ change: ProductChange, at time: Date, traceparent: String?) async throws
        -> Product?
    {
        guard let product = products[sku] else { return nil }
        let (next, changed) = change.applied(to: product, at: time)
        guard changed else { return product }
        let event = try stamp.message(
            ProductUpdated(product: next.snapshot), subject: next.id, time: time, traceparent: traceparent)
        products[sku] = next
        outbox.append([event])
        return next
    }

    package func adjustStock(
        sku: String, _ adjustment: StockAdjustment, idempotencyKey: String?, at time: Date, traceparent: String?
    ) async throws -> AdjustedStock? {
        guard let product = products[sku] else { return nil }
        if let idempotencyKey, let earlier = adjustments[idempotencyKey] {
            guard earlier.sku == sku, earlier.request == adjustment.canonical else {
                throw CatalogStoreError(
                    .idempotencyKeyReused, "Idempotency-Key \(idempotencyKey) was used for another request")
            }
            return AdjustedStock(product: product, isReplay: true)
        }
        let next = try adjustment.applied(to: product, at: time)
        let event = try stamp.message(
            ProductUpdated(product: next.snapshot), subject: next.id, time: time, traceparent: traceparent)
        products[sku] = next
        if let idempotencyKey { adjustments[idempotencyKey] = (sku, adjustment.canonical) }
        outbox.append([event])
        return AdjustedStock(product: next, isReplay: false)
    }

    package func seedIfEmpty(_ new: [NewProduct], at time: Date) async throws -> Bool {
        guard products.isEmpty else { return false }
        for (index, new) in new.enumerated() {
            // A millisecond apart, so they page in the order given.
            let product = Product(new, at: time.addingTimeInterval(Double(index) / 1000))
            products[product.sku] = product
            outbox.append([
                try stamp.message(ProductCreated(product: product.snapshot), subject: product.id, time: time)
            ])
        }
        return true
    }

    package func apply(_ events: [StockEvent], at time: Date) async throws -> [StockLedger.Outcome] {
        var fresh: [StockEvent] = []
        var seen = inbox
        for entry in events where seen.insert(entry.event.id).inserted { fresh.append(entry) }
        var batch = StockBatch(held: reservations, products: products)
        for entry in fresh { batch.apply(entry) }
        let updated = batch.changedProducts(at: time)
        // Announced before anything changes, so a failure to encode leaves the store as it was.
        let messages = try StockEvent.announcements(of: batch.applied, products: updated, stamp: stamp, at: time)
        inbox = seen
        reservations = batch.held
        products = batch.products
        for product in updated { products[product.sku] = product }
        outbox.append(messages)
        return batch.outcomes
    }

    package func reservation(of orderID: UUID) async throws -> (state: StockLedger.State, lines: [String: Int])? {
        reservations[orderID]
    }
}
