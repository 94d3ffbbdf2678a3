public import Contracts
public import Foundation
public import Postgres
public import ServiceKit

/// order-service's storage in PostgreSQL.
public struct PostgresOrderRepository: OrderRepository {
    private let client: PostgresClient
    private let stamp: EventStamp
    private let writer: WriteCoalescer<NewRow, Order>
    private let customers = CustomerCache()

    /// An order to insert, with its idempotency key and its `order.created`.
    struct NewRow: Sendable {
        var order: Order
        var idempotency: IdempotencyKey?
        var event: OutboxMessage
    }

    /// Creates the repository; `stamp` marks the events it queues.
    public init(client: PostgresClient, stamp: EventStamp) {
        self.client = client
        self.stamp = stamp
        // Orders placed concurrently share one statement and one commit (group commit):
        // under load, one commit per batch instead of one per order. A batch is retried order
        // by order only when its rows were refused (a reused idempotency key); an unreachable
        // database fails the whole batch at once, answered 503 with Retry-After.
        self.writer = WriteCoalescer(maxBatch: 128, maxWriters: 2, splitsBatch: { ($0 as? PostgresError)?.isDataError == true }) { rows in
            try await Self.insert(rows, client: client)
        }
    }

    private static let orderColumns = "id, customer_id, status, total, invoice_id, invoice_number, created_at, updated_at"

    public func place(_ order: Order, idempotency: IdempotencyKey?, traceparent: String?) async throws -> PlacedOrder {
        let event = try stamp.message(order.createdEvent, subject: order.id, time: order.createdAt, traceparent: traceparent)
        do {
            return PlacedOrder(order: try await writer.submit(NewRow(order: order, idempotency: idempotency, event: event)), isReplay: false)
        } catch let error as PostgresError where error.isUniqueViolation && error.constraint == "orders_idempotency_key_key" {
            // The same key raced us, or was used before: answer as for that request.
            guard let idempotency, let (existing, request) = try await self.order(idempotencyKey: idempotency.key) else { throw error }
            guard request == idempotency.request else {
                throw OrderStoreError(.idempotencyKeyReused, "Idempotency-Key \(idempotency.key) was used for another request")
            }
            return PlacedOrder(order: existing, isReplay: true)
        }
    }

    /// The statement of ``insert(_:client:)``, built once (it is prepared once per connection).
    private static let insertStatement = """
        WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::numeric[], $4::text[], $5::text[], $6::timestamptz[]) WITH ORDINALITY
                AS i(id, customer_id, total, idempotency_key, idempotency_request, created_at, n)
        ), parked AS (
            DELETE FROM parked_invoices WHERE order_id IN (SELECT id FROM input) RETURNING order_id, invoice_id, invoice_number
        ), placed AS (
            INSERT INTO orders (id, customer_id, status, total, idempotency_key, idempotency_request, created_at, updated_at,
                                invoice_id, invoice_number)
            SELECT i.id, i.customer_id, CASE WHEN p.invoice_id IS NULL THEN 'created' ELSE 'invoiced' END, i.total,
                   i.idempotency_key, i.idempotency_request, i.created_at, i.created_at, p.invoice_id, p.invoice_number
            FROM input AS i LEFT JOIN parked AS p ON p.order_id = i.id
            RETURNING id, invoice_id, invoice_number
        ), items AS (
            INSERT INTO order_items (order_id, position, product_name, quantity, unit_price, line_total)
            SELECT * FROM unnest($7::uuid[], $8::int[], $9::text[], $10::int[], $11::numeric[], $12::numeric[])
        ), events AS (
            \(Outbox.insert(parametersFrom: 13))
        ), change_rows AS (
            -- Each order's order.created, in the order given, then order.invoiced for those
            -- whose invoice was waiting for them.
            SELECT i.n AS n, i.id, i.customer_id, 'order.created' AS event, NULL::uuid AS invoice_id, NULL::text AS invoice_number,
                   i.created_at AS at
            FROM input AS i
            UNION ALL
            SELECT (SELECT count(*) FROM input) + row_number() OVER (ORDER BY i.n), i.id, i.customer_id, 'order.invoiced',
                   p.invoice_id, p.invoice_number, greatest(now(), i.created_at)
            FROM input AS i JOIN parked AS p ON p.order_id = i.id
        ), numbering AS (
            \(Self.takeSequenceNumbers("(SELECT count(*) FROM change_rows)"))
        ), changes AS (
            INSERT INTO order_changes (sequence, order_id, customer_id, event, invoice_id, invoice_number, at)
            SELECT s.last - (SELECT count(*) FROM change_rows) + r.n, r.id, r.customer_id, r.event, r.invoice_id, r.invoice_number, r.at
            FROM change_rows AS r, numbering AS s
        )
        SELECT id, invoice_id, invoice_number FROM placed WHERE invoice_id IS NOT NULL
        """

    /// The statement that reserves `count` sequence numbers for order_changes and returns the
    /// last of them (`last`). Its row lock is held until the transaction ends, so transactions
    /// that record changes commit in sequence order (see ``OrderMigrations``).
    static func takeSequenceNumbers(_ count: String) -> String {
        "UPDATE order_change_sequence SET last = last + \(count) RETURNING last"
    }

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
                    orders.map(\.id), orders.map(\.customerID), orders.map(\.total.amount), rows.map(\.idempotency?.key),
                    rows.map(\.idempotency?.request), orders.map(\.createdAt),
                    items.map(\.0), items.map(\.1), items.map(\.2.productName), items.map(\.2.quantity), items.map(\.2.unitPrice.amount),
                    items.map(\.2.lineTotal.amount),
                ] + Outbox.bindings(rows.map(\.event)))
            // Committed already: a lost wake-up only delays the relay (or the live stream)
            // until its next poll.
            try? await connection.notify(Outbox.channel)
            try? await connection.notify(OrderChangeFeed.channel)
            return try Dictionary(uniqueKeysWithValues: result.map { row in
                (try row.decode(UUID.self, at: 0), (try row.decode(UUID.self, at: 1), try row.decode(String.self, at: 2)))
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

    public func order(idempotencyKey: String) async throws -> (Order, request: String)? {
        let rows = try await client.query(
            "SELECT \(Self.orderColumns), idempotency_request FROM orders WHERE idempotency_key = $1", idempotencyKey)
        guard let row = rows.first else { return nil }
        let orders = try await withItems([row])
        return (orders[0], try row.decode(String?.self, at: 8) ?? "")
    }

    public func order(id: UUID) async throws -> Order? {
        let rows = try await client.query("SELECT \(Self.orderColumns) FROM orders WHERE id = $1", id)
        return try await withItems(Array(rows)).first
    }

    public func orders(page: PageRequest, customerID: UUID?) async throws -> [Order] {
        let (sql, bindings) = page.query(
            select: Self.orderColumns, from: "orders", orderedBy: "created_at", filter: customerID.map { _ in "customer_id = $1" },
            filterBindings: customerID.map { [$0] } ?? [])
        let rows = try await client.withConnection { try await $0.query(sql, bindings) }
        return try await withItems(Array(rows))
    }

    /// Decodes order rows and loads their items with one more query.
    private func withItems(_ rows: [PostgresRow]) async throws -> [Order] {
        var orders = try rows.map { row in
            let id = try row.decode(UUID.self, at: 0)
            let status = try row.decode(String.self, at: 2)
            guard let known = Order.Status(rawValue: status) else {
                throw OrderStoreError(.unknownStatus, "order \(id.uuidString.lowercased()) has status \(status.prefix(40)), which this version does not know")
            }
            return Order(
                id: id, customerID: try row.decode(UUID.self, at: 1), status: known, items: [],
                total: Money(try row.decode(Decimal.self, at: 3)), invoiceID: try row.decode(UUID?.self, at: 4),
                invoiceNumber: try row.decode(String?.self, at: 5), createdAt: try row.decode(Date.self, at: 6),
                updatedAt: try row.decode(Date.self, at: 7))
        }
        guard !orders.isEmpty else { return [] }
        let lines = try await lines(of: orders.map(\.id))
        for index in orders.indices { orders[index].items = lines[orders[index].id] ?? [] }
        return orders
    }

    /// The lines of `orders`, in the order given, with one query.
    private func lines(of orders: [UUID]) async throws -> [UUID: [OrderLine]] {
        let items = try await client.query(
            """
            SELECT order_id, product_name, quantity, unit_price FROM order_items
            WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, position
            """, orders)
        var lines: [UUID: [OrderLine]] = [:]
        for row in items {
            lines[try row.decode(UUID.self, at: 0), default: []].append(
                OrderLine(
                    productName: try row.decode(String.self, at: 1), quantity: try row.decode(Int.self, at: 2),
                    unitPrice: Money(try row.decode(Decimal.self, at: 3))))
        }
        return lines
    }

    public func customer(id: UUID) async throws -> CustomerSnapshot? {
        if let cached = customers.customer(id) { return cached }
        let customer = try await client.query(
            "SELECT id, name, email, address, orders_count, version, updated_at FROM customers WHERE id = $1", id
        ).first.map { row in
            CustomerSnapshot(
                customerID: try row.decode(UUID.self, at: 0), name: try row.decode(String.self, at: 1), email: try row.decode(String.self, at: 2),
                address: try row.decode(String.self, at: 3), ordersCount: try row.decode(Int.self, at: 4), version: try row.decode(Int.self, at: 5),
                updatedAt: try row.decode(Date.self, at: 6))
        }
        if let customer { customers.remember(customer) }
        return customer
    }

    public func saveCustomers(_ customers: [CustomerSnapshot], events: [IncomingEvent]) async throws {
        try await client.transaction { connection in
            // From events: only those not seen before. From an HTTP lookup: all.
            let applicable =
                events.isEmpty ? customers : try await Inbox.claim(Array(zip(events, customers)), on: connection, event: \.0).map(\.1)
            // Of several versions of one customer in the batch, the newest is enough.
            var newest: [UUID: CustomerSnapshot] = [:]
            for customer in applicable where (newest[customer.customerID]?.version ?? .min) < customer.version {
                newest[customer.customerID] = customer
            }
            guard !newest.isEmpty else { return }
            let list = newest.values.sorted { $0.customerID.uuidString < $1.customerID.uuidString }
            try await connection.query(
                """
                INSERT INTO customers (id, name, email, address, orders_count, version, updated_at)
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::timestamptz[])
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name, email = excluded.email, address = excluded.address,
                    orders_count = excluded.orders_count, version = excluded.version, updated_at = excluded.updated_at
                WHERE customers.version < excluded.version
                """, list.map(\.customerID), list.map(\.name), list.map(\.email), list.map(\.address), list.map(\.ordersCount),
                list.map(\.version), list.map(\.updatedAt))
        }
    }

    public func markInvoiced(_ invoices: [InvoicedOrder]) async throws {
        try await client.transaction { connection in
            let applicable = try await Inbox.claim(invoices, on: connection, event: \.event)
            guard !applicable.isEmpty else { return }
            let updated = try await connection.query(
                """
                WITH updated AS (
                    UPDATE orders AS o
                    SET status = 'invoiced', invoice_id = d.invoice_id, invoice_number = d.invoice_number, updated_at = now()
                    FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS d(order_id, invoice_id, invoice_number)
                    WHERE o.id = d.order_id AND o.invoice_id IS NULL
                    RETURNING o.id, o.customer_id, o.invoice_id, o.invoice_number, o.updated_at
                ), numbered AS (
                    SELECT row_number() OVER (ORDER BY id) AS n, * FROM updated
                ), numbering AS (
                    \(Self.takeSequenceNumbers("(SELECT count(*) FROM updated)"))
                ), changes AS (
                    INSERT INTO order_changes (sequence, order_id, customer_id, event, invoice_id, invoice_number, at)
                    SELECT s.last - (SELECT count(*) FROM updated) + u.n, u.id, u.customer_id, 'order.invoiced', u.invoice_id,
                           u.invoice_number, u.updated_at
                    FROM numbered AS u, numbering AS s
                )
                SELECT id FROM updated
                """, applicable.map(\.orderID), applicable.map(\.invoiceID), applicable.map(\.invoiceNumber))
            let done = Set(try updated.map { try $0.decode(UUID.self, at: 0) })
            if !done.isEmpty { try await connection.notify(OrderChangeFeed.channel) }
            let pending = applicable.filter { !done.contains($0.orderID) }
            guard !pending.isEmpty else { return }
            // Either already invoiced (nothing to do) or not stored yet: park the latter.
            try await connection.query(
                """
                INSERT INTO parked_invoices (order_id, invoice_id, invoice_number)
                SELECT d.* FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS d(order_id, invoice_id, invoice_number)
                WHERE NOT EXISTS (SELECT 1 FROM orders WHERE id = d.order_id)
                ON CONFLICT (order_id) DO NOTHING
                """, pending.map(\.orderID), pending.map(\.invoiceID), pending.map(\.invoiceNumber))
        }
    }

    // MARK: - Changes

    /// A change row with the order and the replica's customer: what ``decodeChanges(_:)`` reads.
    private static let changeColumns = """
        c.sequence, c.event, c.invoice_id, c.invoice_number, c.at, o.id, o.customer_id, o.total, o.created_at,
        cu.name, cu.email, cu.address, cu.orders_count, cu.version, cu.updated_at
        FROM order_changes AS c JOIN orders AS o ON o.id = c.order_id LEFT JOIN customers AS cu ON cu.id = c.customer_id
        """

    public func changes(after sequence: Int64, customerID: UUID?, limit: Int) async throws -> [OrderChange] {
        let rows: PostgresRows
        if let customerID {
            rows = try await client.query(
                "SELECT \(Self.changeColumns) WHERE c.customer_id = $1 AND c.sequence > $2 ORDER BY c.sequence LIMIT $3", customerID,
                sequence, limit)
        } else {
            rows = try await client.query("SELECT \(Self.changeColumns) WHERE c.sequence > $1 ORDER BY c.sequence LIMIT $2", sequence, limit)
        }
        return try await decodeChanges(Array(rows))
    }

    public func history(of orderID: UUID) async throws -> [OrderChange] {
        let rows = try await client.query("SELECT \(Self.changeColumns) WHERE c.order_id = $1 ORDER BY c.sequence", orderID)
        return try await decodeChanges(Array(rows))
    }

    public func statusCounts(customerID: UUID?) async throws -> OrderStatusCounts {
        // One statement, one snapshot: the counts include exactly the changes up to `last`.
        let filter = customerID == nil ? "" : "WHERE customer_id = $1"
        let sql = """
            SELECT s.last, c.status, c.n FROM order_change_sequence AS s
            LEFT JOIN (SELECT status, count(*) AS n FROM orders \(filter) GROUP BY status) AS c ON true
            """
        let bindings: [any PostgresEncodable] = customerID.map { [$0] } ?? []
        let rows = try await client.withConnection { try await $0.query(sql, bindings) }
        var counts: [Order.Status: Int] = [:]
        var sequence: Int64 = 0
        for row in rows {
            sequence = try row.decode(Int64.self, at: 0)
            guard let text = try row.decode(String?.self, at: 1) else { continue }
            guard let status = Order.Status(rawValue: text) else {
                throw OrderStoreError(.unknownStatus, "orders have status \(text.prefix(40)), which this version does not know")
            }
            counts[status] = try row.decode(Int.self, at: 2)
        }
        return OrderStatusCounts(counts: counts, sequence: sequence)
    }

    /// Decodes change rows (``changeColumns``) and loads their orders' items with one more query.
    private func decodeChanges(_ rows: [PostgresRow]) async throws -> [OrderChange] {
        var changes = try rows.map { row in
            let text = try row.decode(String.self, at: 1)
            guard let kind = OrderChange.Kind(rawValue: text) else {
                throw OrderStoreError(.unknownStatus, "an order change is \(text.prefix(40)), which this version does not know")
            }
            let at = try row.decode(Date.self, at: 4)
            let order = Order(
                id: try row.decode(UUID.self, at: 5), customerID: try row.decode(UUID.self, at: 6), status: kind.status, items: [],
                total: Money(try row.decode(Decimal.self, at: 7)), invoiceID: try row.decode(UUID?.self, at: 2),
                invoiceNumber: try row.decode(String?.self, at: 3), createdAt: try row.decode(Date.self, at: 8), updatedAt: at)
            var customer: CustomerSnapshot?
            if let name = try row.decode(String?.self, at: 9) {
                customer = CustomerSnapshot(
                    customerID: order.customerID, name: name, email: try row.decode(String.self, at: 10),
                    address: try row.decode(String.self, at: 11), ordersCount: try row.decode(Int.self, at: 12),
                    version: try row.decode(Int.self, at: 13), updatedAt: try row.decode(Date.self, at: 14))
            }
            return OrderChange(sequence: try row.decode(Int64.self, at: 0), kind: kind, at: at, order: order, customer: customer)
        }
        guard !changes.isEmpty else { return [] }
        let lines = try await lines(of: Array(Set(changes.map(\.order.id))))
        for index in changes.indices { changes[index].order.items = lines[changes[index].order.id] ?? [] }
        return changes
    }
}
