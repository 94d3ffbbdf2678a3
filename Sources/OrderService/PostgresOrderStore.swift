import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// order-service's orders in PostgreSQL.
package struct PostgresOrderStore: OrderStore {
    let client: PostgresClient
    let stamp: EventStamp
    let writer: WriteCoalescer<NewRow, Order>

    /// An order to insert, with its idempotency key and its `order.created`.
    struct NewRow: Sendable {
        var order: Order
        var idempotency: IdempotencyKey?
        var event: OutboxMessage
    }

    /// Creates the store; `stamp` marks the events it queues.
    package init(client: PostgresClient, stamp: EventStamp) {
        self.client = client
        self.stamp = stamp
        // Orders placed concurrently share one statement and one commit (group commit):
        // under load, one commit per batch instead of one per order. A batch is retried order
        // by order only when its rows were refused (a reused idempotency key); an unreachable
        // database fails the whole batch at once, answered 503 with Retry-After.
        self.writer = WriteCoalescer(
            maxBatch: 128, maxWriters: 2, splitsBatch: { ($0 as? PostgresError)?.isDataError == true }
        ) { rows in
            try await Self.insert(rows, client: client)
        }
    }

    package func place(_ order: Order, idempotency: IdempotencyKey?, traceparent: String?) async throws -> PlacedOrder {
        let event = try stamp.message(
            order.createdEvent, subject: order.id, time: order.createdAt, traceparent: traceparent)
        do {
            return PlacedOrder(
                order: try await writer.submit(NewRow(order: order, idempotency: idempotency, event: event)),
                isReplay: false)
        } catch let error as PostgresError
            where error.isUniqueViolation && error.constraint == "orders_idempotency_key_key"
        {
            // The same key raced us, or was used before: answer as for that request.
            guard let idempotency, let existing = try await replay(of: idempotency) else { throw error }
            return PlacedOrder(order: existing, isReplay: true)
        }
    }

    package func replay(of idempotency: IdempotencyKey) async throws -> Order? {
        guard let (existing, request) = try await order(idempotencyKey: idempotency.key) else { return nil }
        guard request == idempotency.request else {
            throw OrderStoreError(
                .idempotencyKeyReused, "Idempotency-Key \(idempotency.key) was used for another request")
        }
        return existing
    }

    /// The statement of ``insert(_:client:)``, built once (it is prepared once per connection).
    static let insertStatement = """
        WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::numeric[], $4::text[], $5::text[], $6::timestamptz[]) WITH ORDINALITY
                AS i(id, customer_id, total, idempotency_key, idempotency_request, created_at, n)
        ), placed AS (
            INSERT INTO orders (id, customer_id, status, total, idempotency_key, idempotency_request, created_at, updated_at)
            SELECT i.id, i.customer_id, 'created', i.total, i.idempotency_key, i.idempotency_request, i.created_at,
                   i.created_at
            FROM input AS i
        ), items AS (
            INSERT INTO order_items (order_id, position, product_name, quantity, unit_price, line_total, sku)
            SELECT * FROM unnest($7::uuid[], $8::int[], $9::text[], $10::int[], $11::numeric[], $12::numeric[], $13::text[])
        ), events AS (
            \(Outbox.insert(parametersFrom: 14))
        )
        -- Each order's order.created, in the order given; numbered later (settleChanges).
        INSERT INTO order_change_queue (order_id, customer_id, event, at)
        SELECT i.id, i.customer_id, 'order.created', i.created_at FROM input AS i ORDER BY i.n
        """

    /// Inserts orders, their items and their `order.created` events in one statement: one
    /// round trip and one implicit transaction, all or nothing.
    static func insert(_ rows: [NewRow], client: PostgresClient) async throws -> [Order] {
        let orders = rows.map(\.order)
        let items = orders.flatMap { order in order.items.enumerated().map { (order.id, $0.offset, $0.element) } }
        try await client.withConnection { connection in
            try await connection.query(
                Self.insertStatement,
                [
                    orders.map(\.id), orders.map(\.customerID), orders.map(\.total.amount),
                    rows.map(\.idempotency?.key),
                    rows.map(\.idempotency?.request), orders.map(\.createdAt),
                    items.map(\.0), items.map(\.1), items.map(\.2.productName), items.map(\.2.quantity),
                    items.map(\.2.unitPrice.amount),
                    items.map(\.2.lineTotal.amount), items.map(\.2.sku),
                ] + Outbox.bindings(rows.map(\.event)))
            // Committed already: a lost wake-up only delays the relay (or the live stream)
            // until its next poll.
            try? await connection.notify(Outbox.channel)
            try? await connection.notify(OrderChangeFeed.channel)
        }
        return orders
    }

    /// The order stored under an idempotency key, with the request it was placed with.
    func order(idempotencyKey: String) async throws -> (Order, request: String)? {
        let rows = try await client.query(
            "SELECT \(OrderRows.columns), idempotency_request FROM orders WHERE idempotency_key = $1", idempotencyKey)
        guard let row = rows.first else { return nil }
        let orders = try await OrderRows.decode([row], client: client)
        return (orders[0], try row.decode(String?.self, at: 14) ?? "")
    }

    package func outOfStockCount() async throws -> Int {
        try await client.query("SELECT count(*)::int FROM orders WHERE cancel_reason = 'out_of_stock'")[0]
            .decode(Int.self, at: 0)
    }

    package func order(id: UUID) async throws -> Order? {
        let rows = try await client.query("SELECT \(OrderRows.columns) FROM orders WHERE id = $1", id)
        return try await OrderRows.decode(Array(rows), client: client).first
    }

    package func orders(page: PageRequest, customerID: UUID?) async throws -> [Order] {
        let (sql, bindings) = page.query(
            select: OrderRows.columns, from: "orders", orderedBy: "created_at",
            filter: customerID.map { _ in "customer_id = $1" },
            filterBindings: customerID.map { [$0] } ?? [])
        let rows = try await client.withConnection { try await $0.query(sql, bindings) }
        return try await OrderRows.decode(Array(rows), client: client)
    }
}
