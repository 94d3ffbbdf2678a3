import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// catalog-service's purchase orders in PostgreSQL (table `purchase_orders`).
package struct PostgresPurchaseOrderStore: PurchaseOrderStore {
    private let client: PostgresClient
    private let stamp: EventStamp

    /// Creates the store; `stamp` marks the events it queues.
    package init(client: PostgresClient, stamp: EventStamp) {
        self.client = client
        self.stamp = stamp
    }

    static let columns =
        "id, sku, quantity, received, state, attempts, next_attempt_at, last_error, placed_at, created_at, updated_at"

    /// Opens a purchase order for each of `products` that needs one (``PurchaseOrder/needed(for:at:)``)
    /// and has none open, inside the caller's transaction: the partial unique index
    /// `purchase_orders_one_open` makes a second open one for a product impossible, even from
    /// another replica's concurrent transaction.
    /// Returns the units ordered for each product it opened one for (also added to its
    /// `on_order`).
    @discardableResult
    static func openIfNeeded(_ products: [Product], at time: Date, on connection: PostgresConnection) async throws
        -> [String: Int]
    {
        let orders = products.compactMap { PurchaseOrder.needed(for: $0, at: time) }
        guard !orders.isEmpty else { return [:] }
        var opened: [String: Int] = [:]
        for row in try await connection.query(
            """
            WITH opened AS (
                INSERT INTO purchase_orders (id, sku, quantity, state, next_attempt_at, created_at, updated_at)
                SELECT id, sku, quantity, 'open', $4, $4, $4
                FROM unnest($1::uuid[], $2::text[], $3::int[]) AS d(id, sku, quantity)
                ON CONFLICT (sku) WHERE state <> 'received' DO NOTHING
                RETURNING sku, quantity
            )
            UPDATE products AS p SET on_order = p.on_order + o.quantity FROM opened AS o WHERE p.sku = o.sku
            RETURNING p.sku, o.quantity
            """, orders.map(\.id), orders.map(\.sku), orders.map(\.quantity), time)
        {
            opened[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return opened
    }

    package func due(at time: Date, limit: Int) async throws -> [PurchaseOrder] {
        try await client.query(
            """
            SELECT \(Self.columns) FROM purchase_orders
            WHERE state <> 'received' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2
            """, time, limit
        ).map(Self.decode)
    }

    package func markPlaced(_ id: UUID, at time: Date, next: Date) async throws {
        try await client.query(
            """
            UPDATE purchase_orders SET state = 'placed', placed_at = coalesce(placed_at, $2), next_attempt_at = $3,
                last_error = NULL, updated_at = $2
            WHERE id = $1 AND state = 'open'
            """, id, time, next)
    }

    package func markFailed(_ id: UUID, error: String, next: Date, at time: Date) async throws {
        try await client.query(
            """
            UPDATE purchase_orders SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, updated_at = $4
            WHERE id = $1 AND state <> 'received'
            """, id, String(error.prefix(500)), next, time)
    }

    package func receive(_ id: UUID, delivered: Int, next: Date, at time: Date) async throws -> Product? {
        let stamp = self.stamp
        return try await client.transaction { connection in
            guard
                let order = try await connection.query(
                    "SELECT \(Self.columns) FROM purchase_orders WHERE id = $1 FOR UPDATE", id
                ).first.map(Self.decode), order.state == .placed
            else { return nil }
            let units = min(delivered, order.quantity) - order.received
            guard units > 0 else {
                try await connection.query(
                    "UPDATE purchase_orders SET next_attempt_at = $2 WHERE id = $1", id, next)
                return nil
            }
            guard
                var product = try await connection.query(
                    "SELECT \(PostgresProductStore.columns) FROM products WHERE sku = $1 FOR UPDATE", order.sku
                ).first.map(PostgresProductStore.decode)
            else { return nil }
            let before = product.onHand
            product.onHand += units
            product.onOrder -= units
            product.version += 1
            product.updatedAt = time
            try await connection.query(
                "UPDATE products SET on_hand = $2, on_order = $3, version = $4, updated_at = $5 WHERE sku = $1",
                product.sku, product.onHand, product.onOrder, product.version, time)
            try await connection.query(
                """
                INSERT INTO stock_adjustments (sku, kind, quantity, on_hand_before, on_hand_after, reason, at)
                VALUES ($1, 'received', $2, $3, $4, $5, $6)
                """, product.sku, units, before, product.onHand,
                "purchase order \(id.uuidString.lowercased())", time)
            let complete = order.received + units == order.quantity
            try await connection.query(
                """
                UPDATE purchase_orders SET received = received + $2, state = $3, next_attempt_at = $4, updated_at = $5
                WHERE id = $1
                """, id, units, complete ? "received" : "placed", next, time)
            // Received in full yet still at or below its reorder point (orders took it meanwhile):
            // the next purchase order opens now, not at the next reservation.
            if complete {
                product.onOrder += try await Self.openIfNeeded([product], at: time, on: connection)[
                    product.sku, default: 0]
            }
            try await Outbox.append(
                try PurchaseOrder.announcements(of: units, for: order, into: product, stamp: stamp, at: time),
                on: connection)
            return product
        }
    }

    package func purchaseOrders(page: PageRequest) async throws -> [PurchaseOrder] {
        let (sql, bindings) = page.query(select: Self.columns, from: "purchase_orders", orderedBy: "created_at")
        return try await client.withConnection { try await $0.query(sql, bindings) }.map(Self.decode)
    }

    static func decode(_ row: PostgresRow) throws -> PurchaseOrder {
        PurchaseOrder(
            id: try row.decode(UUID.self, at: 0), sku: try row.decode(String.self, at: 1),
            quantity: try row.decode(Int.self, at: 2), received: try row.decode(Int.self, at: 3),
            state: PurchaseOrder.State(rawValue: try row.decode(String.self, at: 4)) ?? .open,
            attempts: try row.decode(Int.self, at: 5), nextAttemptAt: try row.decode(Date.self, at: 6),
            lastError: try row.decode(String?.self, at: 7), placedAt: try row.decode(Date?.self, at: 8),
            createdAt: try row.decode(Date.self, at: 9), updatedAt: try row.decode(Date.self, at: 10))
    }
}

extension PurchaseOrder {
    /// What a delivery of `units` against `order` announces: `stock.replenished`, and the
    /// product's new state (`product.updated`) for order-service's replica.
    package static func announcements(
        of units: Int, for order: PurchaseOrder, into product: Product, stamp: EventStamp, at time: Date
    ) throws -> [OutboxMessage] {
        [
            try stamp.message(
                StockReplenished(
                    sku: product.sku, purchaseOrderID: order.id, quantity: units, onHand: product.onHand,
                    available: product.available, replenishedAt: time), subject: order.id, time: time),
            try stamp.message(ProductUpdated(product: product.snapshot), subject: product.id, time: time),
        ]
    }
}
