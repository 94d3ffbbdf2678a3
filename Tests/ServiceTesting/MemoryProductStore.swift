package import CatalogService
import Contracts
package import Foundation
package import ServiceKit

/// catalog-service's products, reservations and purchase orders in memory, for unit tests; it
/// passes the same contract suites as `PostgresProductStore`, `PostgresStockStore` and
/// `PostgresPurchaseOrderStore`. One actor is both
/// stores because a reservation changes products in the same step, as one PostgreSQL
/// transaction does; being an actor, each call runs alone: the row locks are implicit.
package actor MemoryProductStore: ProductStore, StockStore, PurchaseOrderStore {
    private var products: [String: Product] = [:]
    private var reservations: [UUID: StockBatch.Holding] = [:]
    private var inbox: Set<String> = []
    private var orders: [UUID: PurchaseOrder] = [:]
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
        let (changedProduct, changed) = change.applied(to: product, at: time)
        guard changed else { return product }
        products[sku] = changedProduct
        let next = openIfNeeded([changedProduct], at: time)[0]
        outbox.append([
            try stamp.message(
                ProductUpdated(product: next.snapshot), subject: next.id, time: time, traceparent: traceparent)
        ])
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
        let adjusted = try adjustment.applied(to: product, at: time)
        products[sku] = adjusted
        let next = openIfNeeded([adjusted], at: time)[0]
        if let idempotencyKey { adjustments[idempotencyKey] = (sku, adjustment.canonical) }
        outbox.append([
            try stamp.message(
                ProductUpdated(product: next.snapshot), subject: next.id, time: time, traceparent: traceparent)
        ])
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
        inbox = seen
        reservations = batch.held
        products = batch.products
        var updated = batch.changedProducts(at: time)
        for product in updated { products[product.sku] = product }
        updated = openIfNeeded(updated, at: time)
        outbox.append(try StockEvent.announcements(of: batch.applied, products: updated, stamp: stamp, at: time))
        return batch.outcomes
    }

    /// Opens a purchase order for each product that needs one and has none open, adding it to
    /// the product's `onOrder`; returns the products as they are then.
    @discardableResult
    private func openIfNeeded(_ changed: [Product], at time: Date) -> [Product] {
        let open = Set(orders.values.filter { $0.state != .received }.map(\.sku))
        return changed.map { product in
            guard !open.contains(product.sku), let order = PurchaseOrder.needed(for: product, at: time) else {
                return product
            }
            orders[order.id] = order
            products[product.sku]?.onOrder += order.quantity
            var product = product
            product.onOrder += order.quantity
            return product
        }
    }

    package func due(at time: Date, limit: Int) async throws -> [PurchaseOrder] {
        Array(
            orders.values.filter { $0.state != .received && $0.nextAttemptAt <= time }
                .sorted { ($0.nextAttemptAt, $0.id.uuidString) < ($1.nextAttemptAt, $1.id.uuidString) }.prefix(limit))
    }

    package func markPlaced(_ id: UUID, at time: Date, next: Date) async throws {
        guard var order = orders[id], order.state == .open else { return }
        order.state = .placed
        order.placedAt = order.placedAt ?? time
        order.nextAttemptAt = next
        order.lastError = nil
        order.updatedAt = time
        orders[id] = order
    }

    package func markFailed(_ id: UUID, error: String, next: Date, at time: Date) async throws {
        guard var order = orders[id], order.state != .received else { return }
        order.attempts += 1
        order.lastError = String(error.prefix(500))
        order.nextAttemptAt = next
        order.updatedAt = time
        orders[id] = order
    }

    package func receive(_ id: UUID, delivered: Int, next: Date, at time: Date) async throws -> Product? {
        guard var order = orders[id], order.state == .placed, var product = products[order.sku] else { return nil }
        let units = min(delivered, order.quantity) - order.received
        order.nextAttemptAt = next
        guard units > 0 else {
            orders[id] = order
            return nil
        }
        product.onHand += units
        product.onOrder -= units
        product.version += 1
        product.updatedAt = time
        let placed = order
        order.received += units
        order.state = order.received == order.quantity ? .received : .placed
        order.updatedAt = time
        orders[id] = order
        products[product.sku] = product
        if order.state == .received { product = openIfNeeded([product], at: time)[0] }
        outbox.append(try PurchaseOrder.announcements(of: units, for: placed, into: product, stamp: stamp, at: time))
        return product
    }

    package func purchaseOrders(page: PageRequest) async throws -> [PurchaseOrder] {
        page.page(of: Array(orders.values)) { PageCursor(time: $0.createdAt, id: $0.id) }
    }

    package func reservation(of orderID: UUID) async throws -> (state: StockLedger.State, lines: [String: Int])? {
        reservations[orderID]
    }
}
