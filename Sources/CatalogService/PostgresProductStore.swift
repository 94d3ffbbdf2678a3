import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// catalog-service's products in PostgreSQL.
package struct PostgresProductStore: ProductStore {
    private let client: PostgresClient
    private let stamp: EventStamp

    /// Creates the store; `stamp` marks the events it queues.
    package init(client: PostgresClient, stamp: EventStamp) {
        self.client = client
        self.stamp = stamp
    }

    /// The transaction-scoped advisory lock that lets only one of several replicas starting
    /// together seed the products.
    static let seedingLock: Int64 = 7_263_537

    static let columns =
        "id, sku, name, price, on_hand, reserved, reorder_point, reorder_quantity, active, version, created_at, updated_at, on_order"

    package func create(_ new: NewProduct, at time: Date, traceparent: String?) async throws -> Product {
        let product = Product(new, at: time)
        let event = try stamp.message(
            ProductCreated(product: product.snapshot), subject: product.id, time: time, traceparent: traceparent)
        do {
            try await client.transaction { connection in
                try await Self.insert(product, on: connection)
                try await Outbox.append([event], on: connection)
            }
        } catch let error as PostgresError where error.isUniqueViolation && error.constraint == "products_pkey" {
            throw CatalogStoreError(.skuTaken, "a product with SKU \(new.sku) exists")
        }
        return product
    }

    /// Inserts the product, and its initial stock as the first entry of its books.
    private static func insert(_ product: Product, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            WITH product AS (
                INSERT INTO products (id, sku, name, price, on_hand, reserved, reorder_point, reorder_quantity,
                                      active, version, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                RETURNING sku, on_hand, created_at
            )
            INSERT INTO stock_adjustments (sku, kind, quantity, on_hand_before, on_hand_after, reason, at)
            SELECT sku, 'initial', on_hand, 0, on_hand, 'stock the product was added with', created_at FROM product
            """, product.id, product.sku, product.name, product.price.amount, product.onHand, product.reserved,
            product.reorderPoint, product.reorderQuantity, product.active, product.version, product.createdAt,
            product.updatedAt)
    }

    package func product(sku: String) async throws -> Product? {
        try await client.query("SELECT \(Self.columns) FROM products WHERE sku = $1", sku).first.map(Self.decode)
    }

    package func products(page: PageRequest) async throws -> [Product] {
        let (sql, bindings) = page.query(select: Self.columns, from: "products", orderedBy: "created_at")
        return try await client.withConnection { try await $0.query(sql, bindings) }.map(Self.decode)
    }

    package func update(sku: String, _ change: ProductChange, at time: Date, traceparent: String?) async throws
        -> Product?
    {
        let stamp = self.stamp
        return try await client.transaction { connection in
            guard let product = try await Self.locked(sku, on: connection) else { return nil }
            let (changedProduct, changed) = change.applied(to: product, at: time)
            guard changed else { return product }
            var next = changedProduct
            try await Self.write(next, on: connection)
            // A lower reorder point or a reactivated product may need stock now.
            next.onOrder += try await PostgresPurchaseOrderStore.openIfNeeded([next], at: time, on: connection)[
                next.sku, default: 0]
            try await Outbox.append(
                [
                    try stamp.message(
                        ProductUpdated(product: next.snapshot), subject: next.id, time: time, traceparent: traceparent)
                ], on: connection)
            return next
        }
    }

    package func adjustStock(
        sku: String, _ adjustment: StockAdjustment, idempotencyKey: String?, at time: Date, traceparent: String?
    ) async throws -> AdjustedStock? {
        do {
            return try await adjust(
                sku: sku, adjustment, idempotencyKey: idempotencyKey, at: time, traceparent: traceparent)
        } catch let error as PostgresError
            where error.isUniqueViolation && error.constraint == "stock_adjustments_idempotency_key_key"
        {
            // The same key at once for another product: each waited on its own product's lock,
            // so only the unique index saw them meet.
            throw CatalogStoreError(
                .idempotencyKeyReused, "Idempotency-Key \(idempotencyKey ?? "") was used for another request")
        }
    }

    private func adjust(
        sku: String, _ adjustment: StockAdjustment, idempotencyKey: String?, at time: Date, traceparent: String?
    ) async throws -> AdjustedStock? {
        let stamp = self.stamp
        return try await client.transaction { connection in
            guard let product = try await Self.locked(sku, on: connection) else { return nil }
            // Under the product's lock: a retry of the same key waits for the first and then
            // finds its row.
            if let idempotencyKey,
                let row = try await connection.query(
                    "SELECT sku, request FROM stock_adjustments WHERE idempotency_key = $1", idempotencyKey
                ).first
            {
                guard try row.decode(String.self, at: 0) == sku,
                    try row.decode(String?.self, at: 1) == adjustment.canonical
                else {
                    throw CatalogStoreError(
                        .idempotencyKeyReused, "Idempotency-Key \(idempotencyKey) was used for another request")
                }
                return AdjustedStock(product: product, isReplay: true)
            }
            var next = try adjustment.applied(to: product, at: time)
            try await Self.write(next, on: connection)
            next.onOrder += try await PostgresPurchaseOrderStore.openIfNeeded([next], at: time, on: connection)[
                next.sku, default: 0]
            try await connection.query(
                """
                INSERT INTO stock_adjustments (sku, kind, quantity, on_hand_before, on_hand_after, reason,
                                               idempotency_key, request, at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """, sku, adjustment.kind.rawValue, adjustment.quantity, product.onHand, next.onHand, adjustment.reason,
                idempotencyKey, idempotencyKey.map { _ in adjustment.canonical }, time)
            try await Outbox.append(
                [
                    try stamp.message(
                        ProductUpdated(product: next.snapshot), subject: next.id, time: time, traceparent: traceparent)
                ], on: connection)
            return AdjustedStock(product: next, isReplay: false)
        }
    }

    package func seedIfEmpty(_ products: [NewProduct], at time: Date) async throws -> Bool {
        let stamp = self.stamp
        return try await client.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock($1)", Self.seedingLock)
            guard try await connection.query("SELECT 1 FROM products LIMIT 1").first == nil else { return false }
            var events: [OutboxMessage] = []
            for (index, new) in products.enumerated() {
                // A millisecond apart, so they page in the order given.
                let product = Product(new, at: time.addingTimeInterval(Double(index) / 1000))
                try await Self.insert(product, on: connection)
                events.append(
                    try stamp.message(ProductCreated(product: product.snapshot), subject: product.id, time: time))
            }
            try await Outbox.append(events, on: connection)
            return true
        }
    }

    private static func locked(_ sku: String, on connection: PostgresConnection) async throws -> Product? {
        try await connection.query("SELECT \(columns) FROM products WHERE sku = $1 FOR UPDATE", sku).first.map(decode)
    }

    private static func write(_ product: Product, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE products SET name = $2, price = $3, on_hand = $4, reserved = $5, reorder_point = $6,
                reorder_quantity = $7, active = $8, version = $9, updated_at = $10
            WHERE sku = $1
            """, product.sku, product.name, product.price.amount, product.onHand, product.reserved,
            product.reorderPoint, product.reorderQuantity, product.active, product.version, product.updatedAt)
    }

    static func decode(_ row: PostgresRow) throws -> Product {
        Product(
            id: try row.decode(UUID.self, at: 0), sku: try row.decode(String.self, at: 1),
            name: try row.decode(String.self, at: 2), price: Money(try row.decode(Decimal.self, at: 3)),
            onHand: try row.decode(Int.self, at: 4), reserved: try row.decode(Int.self, at: 5),
            onOrder: try row.decode(Int.self, at: 12),
            reorderPoint: try row.decode(Int.self, at: 6), reorderQuantity: try row.decode(Int.self, at: 7),
            active: try row.decode(Bool.self, at: 8), version: try row.decode(Int.self, at: 9),
            createdAt: try row.decode(Date.self, at: 10), updatedAt: try row.decode(Date.self, at: 11))
    }
}
