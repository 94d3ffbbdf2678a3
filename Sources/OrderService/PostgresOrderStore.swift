package import Contracts
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
            guard let idempotency, let (existing, request) = try await self.order(idempotencyKey: idempotency.key)
            else { throw error }
            guard request == idempotency.request else {
                throw OrderStoreError(
                    .idempotencyKeyReused, "Idempotency-Key \(idempotency.key) was used for another request")
            }
            return PlacedOrder(order: existing, isReplay: true)
        }
    }

    /// The statement of ``insert(_:client:)``, built once (it is prepared once per connection).
    static let insertStatement = """
        WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::numeric[], $4::text[], $5::text[], $6::timestamptz[]) WITH ORDINALITY
                AS i(id, customer_id, total, idempotency_key, idempotency_request, created_at, n)
        ), parked AS (
            DELETE FROM parked_invoices WHERE order_id IN (SELECT id FROM input) RETURNING order_id, invoice_id, invoice_number, due_at
        ), placed AS (
            INSERT INTO orders (id, customer_id, status, total, idempotency_key, idempotency_request, created_at, updated_at,
                                invoice_id, invoice_number, payment_due_at)
            SELECT i.id, i.customer_id, CASE WHEN p.invoice_id IS NULL THEN 'created' ELSE 'invoiced' END, i.total,
                   i.idempotency_key, i.idempotency_request, i.created_at, i.created_at, p.invoice_id, p.invoice_number, p.due_at
            FROM input AS i LEFT JOIN parked AS p ON p.order_id = i.id
            RETURNING id, invoice_id, invoice_number
        ), items AS (
            INSERT INTO order_items (order_id, position, product_name, quantity, unit_price, line_total)
            SELECT * FROM unnest($7::uuid[], $8::int[], $9::text[], $10::int[], $11::numeric[], $12::numeric[])
        ), events AS (
            \(Outbox.insert(parametersFrom: 13))
        ), changes AS (
            -- Each order's order.created, in the order given, then order.invoiced for those
            -- whose invoice was waiting for them; numbered later (settleChanges).
            INSERT INTO order_change_queue (order_id, customer_id, event, invoice_id, invoice_number, at, from_status)
            SELECT c.id, c.customer_id, c.event, c.invoice_id, c.invoice_number, c.at, c.from_status FROM (
                SELECT i.n, 1 AS step, i.id, i.customer_id, 'order.created' AS event, NULL::uuid AS invoice_id,
                       NULL::text AS invoice_number, i.created_at AS at, NULL::text AS from_status
                FROM input AS i
                UNION ALL
                SELECT i.n, 2, i.id, i.customer_id, 'order.invoiced', p.invoice_id, p.invoice_number, greatest(now(), i.created_at),
                       'created'
                FROM input AS i JOIN parked AS p ON p.order_id = i.id
            ) AS c ORDER BY c.step, c.n
        )
        SELECT id, invoice_id, invoice_number FROM placed WHERE invoice_id IS NOT NULL
        """

    /// Inserts orders, their items and their `order.created` events in one statement: one
    /// round trip and one implicit transaction, all or nothing. An invoice that arrived
    /// before its order (events out of order) is taken from parked_invoices and applied at once.
    static func insert(_ rows: [NewRow], client: PostgresClient) async throws -> [Order] {
        let orders = rows.map(\.order)
        let items = orders.flatMap { order in order.items.enumerated().map { (order.id, $0.offset, $0.element) } }
        let invoiced = try await client.withConnection { connection in
            let result = try await connection.query(
                Self.insertStatement,
                [
                    orders.map(\.id), orders.map(\.customerID), orders.map(\.total.amount),
                    rows.map(\.idempotency?.key),
                    rows.map(\.idempotency?.request), orders.map(\.createdAt),
                    items.map(\.0), items.map(\.1), items.map(\.2.productName), items.map(\.2.quantity),
                    items.map(\.2.unitPrice.amount),
                    items.map(\.2.lineTotal.amount),
                ] + Outbox.bindings(rows.map(\.event)))
            // Committed already: a lost wake-up only delays the relay (or the live stream)
            // until its next poll.
            try? await connection.notify(Outbox.channel)
            try? await connection.notify(OrderChangeFeed.channel)
            return try Dictionary(
                uniqueKeysWithValues: result.map { row in
                    (
                        try row.decode(UUID.self, at: 0),
                        (try row.decode(UUID.self, at: 1), try row.decode(String.self, at: 2))
                    )
                })
        }
        return orders.map { order in
            guard let (invoiceID, number) = invoiced[order.id] else { return order }
            var order = order
            order.status = .invoiced
            order.invoiceID = invoiceID
            order.invoiceNumber = number
            return order
        }
    }

    package func order(idempotencyKey: String) async throws -> (Order, request: String)? {
        let rows = try await client.query(
            "SELECT \(OrderRows.columns), idempotency_request FROM orders WHERE idempotency_key = $1", idempotencyKey)
        guard let row = rows.first else { return nil }
        let orders = try await OrderRows.decode([row], client: client)
        return (orders[0], try row.decode(String?.self, at: 14) ?? "")
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
