package import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// order-service's storage in PostgreSQL.
package struct PostgresOrderRepository: OrderRepository {
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

    private static let orderColumns =
        "id, customer_id, status, total, invoice_id, invoice_number, created_at, updated_at, payment_due_at, paid_at, cancelled_at, cancel_reason, refunded_at, invoice_voided_at"

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
    private static let insertStatement = """
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
            "SELECT \(Self.orderColumns), idempotency_request FROM orders WHERE idempotency_key = $1", idempotencyKey)
        guard let row = rows.first else { return nil }
        let orders = try await withItems([row])
        return (orders[0], try row.decode(String?.self, at: 14) ?? "")
    }

    package func order(id: UUID) async throws -> Order? {
        let rows = try await client.query("SELECT \(Self.orderColumns) FROM orders WHERE id = $1", id)
        return try await withItems(Array(rows)).first
    }

    package func orders(page: PageRequest, customerID: UUID?) async throws -> [Order] {
        let (sql, bindings) = page.query(
            select: Self.orderColumns, from: "orders", orderedBy: "created_at",
            filter: customerID.map { _ in "customer_id = $1" },
            filterBindings: customerID.map { [$0] } ?? [])
        let rows = try await client.withConnection { try await $0.query(sql, bindings) }
        return try await withItems(Array(rows))
    }

    /// Decodes order rows and loads their items with one more query.
    private func withItems(_ rows: [PostgresRow], on connection: PostgresConnection? = nil) async throws -> [Order] {
        var orders = try rows.map { row in
            let id = try row.decode(UUID.self, at: 0)
            let status = try row.decode(String.self, at: 2)
            guard let known = Order.Status(rawValue: status) else {
                throw OrderStoreError(
                    .unknownStatus,
                    "order \(id.uuidString.lowercased()) has status \(status.prefix(40)), which this version does not know"
                )
            }
            var order = Order(
                id: id, customerID: try row.decode(UUID.self, at: 1), status: known, items: [],
                total: Money(try row.decode(Decimal.self, at: 3)), invoiceID: try row.decode(UUID?.self, at: 4),
                invoiceNumber: try row.decode(String?.self, at: 5), createdAt: try row.decode(Date.self, at: 6),
                updatedAt: try row.decode(Date.self, at: 7))
            order.paymentDueAt = try row.decode(Date?.self, at: 8)
            order.paidAt = try row.decode(Date?.self, at: 9)
            order.cancelledAt = try row.decode(Date?.self, at: 10)
            order.cancelReason = try row.decode(String?.self, at: 11)
            order.refundedAt = try row.decode(Date?.self, at: 12)
            order.invoiceVoidedAt = try row.decode(Date?.self, at: 13)
            return order
        }
        guard !orders.isEmpty else { return [] }
        let lines = try await lines(of: orders.map(\.id), on: connection)
        for index in orders.indices { orders[index].items = lines[orders[index].id] ?? [] }
        return orders
    }

    /// The lines of `orders`, in the order given, with one query: an index lookup per order
    /// (LATERAL), never a scan of every order's lines.
    private func lines(of orders: [UUID], on connection: PostgresConnection? = nil) async throws -> [UUID: [OrderLine]]
    {
        let sql = """
            SELECT k.id, i.product_name, i.quantity, i.unit_price FROM unnest($1::uuid[]) AS k(id)
            JOIN LATERAL (
                SELECT product_name, quantity, unit_price, position FROM order_items WHERE order_id = k.id ORDER BY position
            ) AS i ON true
            ORDER BY k.id, i.position
            """
        let items: PostgresRows
        if let connection {
            items = try await connection.query(sql, orders)
        } else {
            items = try await client.query(sql, orders)
        }
        var lines: [UUID: [OrderLine]] = [:]
        for row in items {
            lines[try row.decode(UUID.self, at: 0), default: []].append(
                OrderLine(
                    productName: try row.decode(String.self, at: 1), quantity: try row.decode(Int.self, at: 2),
                    unitPrice: Money(try row.decode(Decimal.self, at: 3))))
        }
        return lines
    }

    package func customer(id: UUID) async throws -> CustomerSnapshot? {
        if let cached = customers.customer(id) { return cached }
        let customer = try await client.query(
            "SELECT id, name, email, address, orders_count, version, updated_at FROM customers WHERE id = $1", id
        ).first.map { row in
            CustomerSnapshot(
                customerID: try row.decode(UUID.self, at: 0), name: try row.decode(String.self, at: 1),
                email: try row.decode(String.self, at: 2),
                address: try row.decode(String.self, at: 3), ordersCount: try row.decode(Int.self, at: 4),
                version: try row.decode(Int.self, at: 5),
                updatedAt: try row.decode(Date.self, at: 6))
        }
        if let customer { customers.remember(customer) }
        return customer
    }

    package func saveCustomers(_ customers: [CustomerSnapshot], events: [IncomingEvent]) async throws {
        try await client.transaction { connection in
            // From events: only those not seen before. From an HTTP lookup: all.
            let applicable =
                events.isEmpty
                ? customers : try await Inbox.claim(Array(zip(events, customers)), on: connection, event: \.0).map(\.1)
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
                """, list.map(\.customerID), list.map(\.name), list.map(\.email), list.map(\.address),
                list.map(\.ordersCount),
                list.map(\.version), list.map(\.updatedAt))
        }
    }

    /// The statement of ``markInvoiced(_:)``: records each invoice on its order (once: an order
    /// with an invoice keeps it) and moves the order through ``OrderLifecycle`` (only a
    /// created order moves; a paid or cancelled one keeps its status).
    private static let markInvoicedStatement = """
        WITH d AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[]) AS d(order_id, invoice_id, invoice_number, due_at)
        ), old AS (
            SELECT o.id, o.status FROM orders AS o JOIN d ON d.order_id = o.id WHERE o.invoice_id IS NULL ORDER BY o.id FOR UPDATE OF o
        ), updated AS (
            UPDATE orders AS o
            SET status = \(OrderLifecycle.sqlCase(for: .invoiceIssued, column: "old.status")), invoice_id = d.invoice_id,
                invoice_number = d.invoice_number, payment_due_at = d.due_at, updated_at = now()
            FROM d, old
            WHERE o.id = d.order_id AND old.id = o.id
            RETURNING o.id, o.customer_id, o.invoice_id, o.invoice_number, o.updated_at, o.status, old.status AS from_status, o.created_at
        ), changes AS (
            INSERT INTO order_change_queue (order_id, customer_id, event, invoice_id, invoice_number, at, from_status)
            SELECT id, customer_id, 'order.invoiced', invoice_id, invoice_number, updated_at, from_status
            FROM updated WHERE status <> from_status ORDER BY id
        )
        SELECT id, created_at FROM updated
        """

    @discardableResult
    package func markInvoiced(_ invoices: [InvoicedOrder]) async throws -> [Date] {
        try await client.transaction { connection in
            let applicable = try await Inbox.claim(invoices, on: connection, event: \.event)
            guard !applicable.isEmpty else { return [] }
            let updated = try await connection.query(
                Self.markInvoicedStatement, applicable.map(\.orderID), applicable.map(\.invoiceID),
                applicable.map(\.invoiceNumber),
                applicable.map(\.dueAt))
            let marked = try updated.map {
                (id: try $0.decode(UUID.self, at: 0), createdAt: try $0.decode(Date.self, at: 1))
            }
            let done = Set(marked.map(\.id))
            if !done.isEmpty { try await connection.notify(OrderChangeFeed.channel) }
            let pending = applicable.filter { !done.contains($0.orderID) }
            guard !pending.isEmpty else { return marked.map(\.createdAt) }
            // Either already invoiced (nothing to do) or not stored yet: park the latter.
            try await connection.query(
                """
                INSERT INTO parked_invoices (order_id, invoice_id, invoice_number, due_at)
                SELECT d.* FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[]) AS d(order_id, invoice_id, invoice_number, due_at)
                WHERE NOT EXISTS (SELECT 1 FROM orders WHERE id = d.order_id)
                ON CONFLICT (order_id) DO NOTHING
                """, pending.map(\.orderID), pending.map(\.invoiceID), pending.map(\.invoiceNumber),
                pending.map(\.dueAt))
            return marked.map(\.createdAt)
        }
    }

    // MARK: - Payment and cancellation

    package func cancel(_ orderID: UUID, reason: OrderCancelled.Reason, at time: Date, traceparent: String?)
        async throws -> CancelResult?
    {
        let stamp = self.stamp
        return try await client.transaction { connection in
            let rows = try await connection.query(
                "SELECT \(Self.orderColumns) FROM orders WHERE id = $1 FOR UPDATE", orderID)
            guard var order = try await withItems(Array(rows), on: connection).first else { return nil }
            let outcome = OrderLifecycle.transition(from: order.status, on: .cancel)
            guard case .moves(let next) = outcome else { return CancelResult(order: order, outcome: outcome) }
            let from = order.status
            order.status = next
            order.cancelledAt = time
            order.cancelReason = reason.rawValue
            order.updatedAt = time
            try await Self.recordCancellations([(order, from)], traceparent: traceparent, stamp: stamp, on: connection)
            return CancelResult(order: order, outcome: outcome)
        }
    }

    /// Writes cancelled orders (moved from the given statuses), their changes and their
    /// `order.cancelled` events, inside the caller's transaction (the orders are locked).
    private static func recordCancellations(
        _ cancelled: [(order: Order, from: Order.Status)], traceparent: String?, stamp: EventStamp,
        on connection: PostgresConnection
    ) async throws {
        guard !cancelled.isEmpty else { return }
        let orders = cancelled.map(\.order)
        try await connection.query(
            """
            WITH d AS (
                SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[]) AS d(id, at, reason, from_status)
            ), updated AS (
                UPDATE orders AS o SET status = 'cancelled', cancelled_at = d.at, cancel_reason = d.reason, updated_at = d.at
                FROM d WHERE o.id = d.id
                RETURNING o.id, o.customer_id, o.invoice_id, o.invoice_number, d.at, d.from_status
            )
            INSERT INTO order_change_queue (order_id, customer_id, event, invoice_id, invoice_number, at, from_status)
            SELECT id, customer_id, 'order.cancelled', invoice_id, invoice_number, at, from_status FROM updated ORDER BY id
            """, orders.map(\.id), orders.map { $0.cancelledAt! }, orders.map { $0.cancelReason! },
            cancelled.map(\.from.rawValue))
        let events = try orders.compactMap { order in
            try order.cancelledEvent.map {
                try stamp.message($0, subject: order.id, time: order.cancelledAt!, traceparent: traceparent)
            }
        }
        try await Outbox.append(events, on: connection)
        try await connection.notify(Outbox.channel)
        try await connection.notify(OrderChangeFeed.channel)
    }

    /// The statement of ``applyPayments(_:)`` for `invoice.paid`: the order moves to paid
    /// through ``OrderLifecycle`` (a cancelled one stays cancelled) and learns its invoice if
    /// `invoice.created` has not arrived yet.
    static let paidStatement = """
        WITH d AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[]) AS d(order_id, invoice_id, invoice_number, at)
        ), old AS (
            SELECT o.id, o.status FROM orders AS o JOIN d ON d.order_id = o.id ORDER BY o.id FOR UPDATE OF o
        ), updated AS (
            UPDATE orders AS o
            SET status = \(OrderLifecycle.sqlCase(for: .paymentCaptured, column: "old.status")),
                paid_at = CASE WHEN \(OrderLifecycle.sqlCase(for: .paymentCaptured, column: "old.status")) = 'paid' THEN coalesce(o.paid_at, d.at) END,
                invoice_id = coalesce(o.invoice_id, d.invoice_id), invoice_number = coalesce(o.invoice_number, d.invoice_number),
                updated_at = CASE WHEN \(OrderLifecycle.sqlCase(for: .paymentCaptured, column: "old.status")) <> old.status THEN now() ELSE o.updated_at END
            FROM d, old
            WHERE o.id = d.order_id AND old.id = o.id
            RETURNING o.id, o.customer_id, o.invoice_id, o.invoice_number, o.updated_at, o.status, old.status AS from_status, o.created_at
        ), changes AS (
            INSERT INTO order_change_queue (order_id, customer_id, event, invoice_id, invoice_number, at, from_status)
            SELECT id, customer_id, 'order.paid', invoice_id, invoice_number, updated_at, from_status
            FROM updated WHERE status <> from_status ORDER BY id
        )
        SELECT id FROM updated
        """

    /// The statement of ``applyPayments(_:)`` for `invoice.refunded`: recorded once on the
    /// (cancelled) order.
    private static let refundedStatement = """
        WITH d AS (
            SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS d(order_id, at)
        ), updated AS (
            UPDATE orders AS o SET refunded_at = d.at, updated_at = now()
            FROM d WHERE o.id = d.order_id AND o.status = 'cancelled' AND o.refunded_at IS NULL
            RETURNING o.id, o.customer_id, o.invoice_id, o.invoice_number, o.updated_at
        ), changes AS (
            INSERT INTO order_change_queue (order_id, customer_id, event, invoice_id, invoice_number, at, from_status)
            SELECT id, customer_id, 'order.refunded', invoice_id, invoice_number, updated_at, 'cancelled' FROM updated ORDER BY id
        )
        SELECT o.id, o.status FROM orders AS o JOIN d ON d.order_id = o.id
        """

    package func applyPayments(_ notices: [PaymentNotice]) async throws {
        let stamp = self.stamp
        try await client.transaction { connection in
            let fresh = try await Inbox.claim(notices, on: connection, event: \.event)
            guard !fresh.isEmpty else { return }
            let paid = fresh.filter { $0.kind == .paid }
            // A paid order's second capture given back changes nothing on the order; a
            // cancelled order's refund is recorded on it, once it is cancelled.
            let refunded = fresh.filter(\.isCancelledOrdersRefund)
            let secondCaptures = fresh.filter { $0.kind == .refunded && !$0.isCancelledOrdersRefund }
            let voided = fresh.filter { $0.kind == .voided }
            let overdue = fresh.filter { $0.kind == .overdue }
            var found = Set<UUID>()
            if !overdue.isEmpty {
                // Cancelled as a requested cancellation is, with order.cancelled (which voids
                // the invoice); invoice-service decided the lateness, knowing it is unpaid.
                let rows = try await connection.query(
                    "SELECT \(Self.orderColumns) FROM orders WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
                    overdue.map(\.orderID))
                let now = Date()
                var cancelled: [(order: Order, from: Order.Status)] = []
                for order in try await withItems(Array(rows), on: connection) {
                    found.insert(order.id)
                    guard case .moves(let next) = OrderLifecycle.transition(from: order.status, on: .cancel) else {
                        continue
                    }
                    var moved = order
                    moved.status = next
                    moved.cancelledAt = now
                    moved.cancelReason = OrderCancelled.Reason.paymentOverdue.rawValue
                    moved.updatedAt = now
                    cancelled.append((moved, order.status))
                }
                let traceparent = overdue.count == 1 ? overdue[0].event.traceparent : nil
                try await Self.recordCancellations(cancelled, traceparent: traceparent, stamp: stamp, on: connection)
            }
            if !paid.isEmpty {
                let rows = try await connection.query(
                    Self.paidStatement, paid.map(\.orderID), paid.map(\.invoiceID), paid.map(\.invoiceNumber),
                    paid.map(\.at))
                found.formUnion(try rows.map { try $0.decode(UUID.self, at: 0) })
            }
            if !refunded.isEmpty {
                let rows = try await connection.query(
                    Self.refundedStatement, refunded.map(\.orderID), refunded.map(\.at))
                for row in rows {
                    let id = try row.decode(UUID.self, at: 0)
                    found.insert(id)
                    // Before its cancellation (a redelivery reordered them): the whole batch is
                    // rolled back and retried.
                    guard try row.decode(String.self, at: 1) == Order.Status.cancelled.rawValue else {
                        throw OrderStoreError(
                            .notCancelledYet, "a refund for order \(id.uuidString.lowercased()), not cancelled yet")
                    }
                }
            }
            if !secondCaptures.isEmpty {
                let rows = try await connection.query(
                    "SELECT id FROM orders WHERE id = ANY($1::uuid[])", secondCaptures.map(\.orderID))
                found.formUnion(try rows.map { try $0.decode(UUID.self, at: 0) })
            }
            if !voided.isEmpty {
                // Recorded, no change of status: the order was cancelled before its invoice was voided.
                let rows = try await connection.query(
                    """
                    UPDATE orders AS o SET invoice_voided_at = coalesce(o.invoice_voided_at, d.at),
                        invoice_id = coalesce(o.invoice_id, d.invoice_id), invoice_number = coalesce(o.invoice_number, d.invoice_number)
                    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[]) AS d(order_id, invoice_id, invoice_number, at)
                    WHERE o.id = d.order_id RETURNING o.id
                    """, voided.map(\.orderID), voided.map(\.invoiceID), voided.map(\.invoiceNumber), voided.map(\.at))
                found.formUnion(try rows.map { try $0.decode(UUID.self, at: 0) })
            }
            let missing = fresh.filter { !found.contains($0.orderID) }
            if !missing.isEmpty {
                // order.created is committed before it is published, so this is a replica
                // restored from an older backup or a forged event: retried, then dead-lettered.
                throw OrderStoreError(
                    .unknownOrder,
                    "payment news for orders not stored: \(missing.map { $0.orderID.uuidString.lowercased() })")
            }
            try await connection.notify(OrderChangeFeed.channel)
        }
    }

    // MARK: - Changes

    /// The changes `filter` picks (a `WHERE … ORDER BY … LIMIT` over order_changes, as `c`),
    /// each with its order and the replica's customer: what ``decodeChanges(_:)`` reads. The
    /// order and customer are looked up per change (LATERAL), by primary key: a join the
    /// planner may turn into a scan of every order, and does on a young table whose
    /// statistics say it is small.
    private static func changesQuery(_ filter: String) -> String {
        """
        SELECT c.sequence, c.event, c.invoice_id, c.invoice_number, c.at, o.id, o.customer_id, o.total, o.created_at,
               cu.name, cu.email, cu.address, cu.orders_count, cu.version, cu.updated_at, c.from_status
        FROM (SELECT * FROM order_changes \(filter)) AS c
        JOIN LATERAL (SELECT id, customer_id, total, created_at FROM orders WHERE id = c.order_id) AS o ON true
        LEFT JOIN LATERAL (
            SELECT name, email, address, orders_count, version, updated_at FROM customers WHERE id = c.customer_id
        ) AS cu ON true
        ORDER BY c.sequence
        """
    }

    private static let changesAfter = changesQuery("WHERE sequence > $1 ORDER BY sequence LIMIT $2")
    private static let customerChangesAfter = changesQuery(
        "WHERE customer_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3")
    private static let orderHistory = changesQuery("WHERE order_id = $1 ORDER BY sequence")

    /// The advisory lock that makes one sequencer at a time number changes (per database).
    static let sequencerLock: Int64 = 0x6D65_7263_6174_6F31  // "mercato1"

    /// Moves the settled changes from the queue into order_changes, numbered. A transaction's
    /// changes are settled once its xid is below every running transaction's, so no change
    /// of an older transaction can appear after them; they are numbered in (xid, id) order —
    /// except that one order's changes are numbered in the order they happened, which xids do
    /// not tell: a transaction takes its xid at its first write (the `invoice.paid` one when it
    /// claims its inbox row, a batch at its first order), possibly before it waits for an
    /// order's lock that another transaction with a later xid holds and changes first.
    ///
    /// An order's changes happen in lifecycle order (created, then invoiced, then paid or
    /// cancelled, then refunded: at most one of each, ``changeRank``), each under the order's
    /// lock after the one before committed. So a change waits (stays queued) while an earlier
    /// one of its order is still queued above the horizon, and within a round each order's
    /// changes take the sequence numbers their (xid, id) places give, in lifecycle order.
    /// `settled_xid`, below which everything was taken, stops at the oldest change waiting.
    static let settleStatement = """
        WITH horizon AS (
            SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xid
        ), candidates AS (
            -- Every row below settled_xid was taken by an earlier round.
            SELECT q.id, q.xid, q.order_id, \(changeRank("q.event")) AS rank FROM order_change_queue AS q
            WHERE q.xid >= (SELECT settled_xid FROM order_change_sequence) AND q.xid < (SELECT xid FROM horizon)
        ), waiting AS (
            -- Changes whose order has an earlier change not settled yet (committed, with an xid
            -- at or above the horizon): numbered in a later round, after it.
            SELECT c.id, c.xid FROM candidates AS c
            WHERE EXISTS (
                SELECT 1 FROM order_change_queue AS w
                WHERE w.xid >= (SELECT xid FROM horizon) AND w.order_id = c.order_id AND \(changeRank("w.event")) < c.rank)
        ), settled AS (
            DELETE FROM order_change_queue
            WHERE id IN (SELECT id FROM candidates EXCEPT SELECT id FROM waiting)
            RETURNING id, xid, order_id, customer_id, event, invoice_id, invoice_number, at, from_status
        ), ranked AS (
            SELECT q.*, row_number() OVER (ORDER BY q.xid, q.id) AS slot,
                   row_number() OVER (PARTITION BY q.order_id ORDER BY q.xid, q.id) AS place,
                   row_number() OVER (PARTITION BY q.order_id ORDER BY \(changeRank("q.event")), q.id) AS turn
            FROM settled AS q
        ), numbering AS (
            UPDATE order_change_sequence
            SET last = last + (SELECT count(*) FROM settled),
                settled_xid = least((SELECT xid FROM horizon), (SELECT min(xid) FROM waiting))
            WHERE EXISTS (SELECT 1 FROM settled) OR EXISTS (SELECT 1 FROM waiting)
            RETURNING last
        )
        INSERT INTO order_changes (sequence, order_id, customer_id, event, invoice_id, invoice_number, at, from_status)
        SELECT s.last - (SELECT count(*) FROM settled) + slots.slot, q.order_id, q.customer_id,
               q.event, q.invoice_id, q.invoice_number, q.at, q.from_status
        FROM ranked AS q JOIN ranked AS slots ON slots.order_id = q.order_id AND slots.place = q.turn, numbering AS s
        """

    /// An order change's place in its order's life, as SQL over an `event` column: changes of
    /// one order happen in this order, at most one of each rank.
    static func changeRank(_ column: String) -> String {
        "CASE \(column) WHEN 'order.created' THEN 0 WHEN 'order.invoiced' THEN 1 WHEN 'order.refunded' THEN 3 ELSE 2 END"
    }

    package func settleChanges() async throws -> Bool {
        try await client.transaction { connection in
            // Every transaction that committed before this call has an xid below `before` (the
            // statement's snapshot is taken before the lock is waited for). One sequencer at a
            // time; a concurrent one is waited for (it is quick), then this round sees what
            // committed meanwhile.
            let before =
                try await connection.query(
                    "SELECT pg_snapshot_xmax(pg_current_snapshot())::text, pg_advisory_xact_lock($1)",
                    Self.sequencerLock
                ).first?.decode(String.self, at: 0) ?? "0"
            let numbered = try await connection.query(Self.settleStatement).affectedRows
            // The other replicas' feeds read them now rather than at their next poll.
            if numbered > 0 { try await connection.notify(OrderChangeFeed.channel) }
            let waiting = try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM order_change_queue WHERE xid < $1::xid8)", before)
            return try waiting.first?.decode(Bool.self, at: 0) == false
        }
    }

    package func lastChangeSequence() async throws -> Int64 {
        try await client.query("SELECT last FROM order_change_sequence").first?.decode(Int64.self, at: 0) ?? 0
    }

    package func changes(after sequence: Int64, customerID: UUID?, limit: Int) async throws -> [OrderChange] {
        let rows: PostgresRows
        if let customerID {
            rows = try await client.query(Self.customerChangesAfter, customerID, sequence, limit)
        } else {
            rows = try await client.query(Self.changesAfter, sequence, limit)
        }
        return try await decodeChanges(Array(rows))
    }

    package func history(of orderID: UUID) async throws -> [OrderChange] {
        // A transaction still running that began before the order's change holds its number
        // back; such transactions end within milliseconds, so wait a moment for them.
        for _ in 0..<50 where try await !settleChanges() { try await Task.sleep(for: .milliseconds(10)) }
        let rows = try await client.query(Self.orderHistory, orderID)
        return try await decodeChanges(Array(rows))
    }

    package func statusCounts(customerID: UUID?) async throws -> OrderStatusCounts {
        // One statement, one snapshot. `orders` already shows the changes still queued (not
        // numbered, so after `last`): they are taken back out, so the counts are exactly
        // those of the changes up to `last`. A queued change moved one order from its
        // from_status (none for order.created) to the status its event names.
        let filter = customerID == nil ? "" : "WHERE customer_id = $1"
        let sql = """
            WITH queued AS (
                SELECT event, from_status FROM order_change_queue \(filter)
            ), adjustments AS (
                SELECT status, count(*) AS n FROM orders \(filter) GROUP BY status
                UNION ALL
                SELECT \(OrderChange.Kind.sqlStatus(of: "event")), -count(*)
                FROM queued GROUP BY 1
                UNION ALL
                SELECT from_status, count(*) FROM queued WHERE from_status IS NOT NULL GROUP BY from_status
            )
            SELECT s.last, a.status, sum(a.n)::bigint FROM order_change_sequence AS s, adjustments AS a GROUP BY s.last, a.status
            UNION ALL
            SELECT last, NULL, 0 FROM order_change_sequence
            """
        let bindings: [any PostgresEncodable] = customerID.map { [$0] } ?? []
        let rows = try await client.withConnection { try await $0.query(sql, bindings) }
        var counts: [Order.Status: Int] = [:]
        var sequence: Int64 = 0
        for row in rows {
            sequence = try row.decode(Int64.self, at: 0)
            guard let text = try row.decode(String?.self, at: 1) else { continue }
            guard let status = Order.Status(rawValue: text) else {
                throw OrderStoreError(
                    .unknownStatus, "orders have status \(text.prefix(40)), which this version does not know")
            }
            let count = try row.decode(Int.self, at: 2)
            if count != 0 { counts[status] = count }
        }
        return OrderStatusCounts(counts: counts, sequence: sequence)
    }

    /// Decodes change rows (``changesQuery(_:)``) and loads their orders' items with one more query.
    private func decodeChanges(_ rows: [PostgresRow]) async throws -> [OrderChange] {
        var changes = try rows.map { row in
            let text = try row.decode(String.self, at: 1)
            guard let kind = OrderChange.Kind(rawValue: text) else {
                throw OrderStoreError(
                    .unknownStatus, "an order change is \(text.prefix(40)), which this version does not know")
            }
            let at = try row.decode(Date.self, at: 4)
            let order = Order(
                id: try row.decode(UUID.self, at: 5), customerID: try row.decode(UUID.self, at: 6), status: kind.status,
                items: [],
                total: Money(try row.decode(Decimal.self, at: 7)), invoiceID: try row.decode(UUID?.self, at: 2),
                invoiceNumber: try row.decode(String?.self, at: 3), createdAt: try row.decode(Date.self, at: 8),
                updatedAt: at)
            var customer: CustomerSnapshot?
            if let name = try row.decode(String?.self, at: 9) {
                customer = CustomerSnapshot(
                    customerID: order.customerID, name: name, email: try row.decode(String.self, at: 10),
                    address: try row.decode(String.self, at: 11), ordersCount: try row.decode(Int.self, at: 12),
                    version: try row.decode(Int.self, at: 13), updatedAt: try row.decode(Date.self, at: 14))
            }
            return OrderChange(
                sequence: try row.decode(Int64.self, at: 0), kind: kind, at: at, order: order, customer: customer,
                previousStatus: try row.decode(String?.self, at: 15).flatMap(Order.Status.init(rawValue:)))
        }
        guard !changes.isEmpty else { return [] }
        let lines = try await lines(of: Array(Set(changes.map(\.order.id))))
        for index in changes.indices { changes[index].order.items = lines[changes[index].order.id] ?? [] }
        return changes
    }
}
