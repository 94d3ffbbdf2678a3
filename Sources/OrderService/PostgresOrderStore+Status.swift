package import Contracts
package import Foundation
import Postgres
import ServiceKit

/// Invoices, payments and cancellations: what moves an order through its lifecycle.
extension PostgresOrderStore {
    /// The statement of ``markInvoiced(_:)``: records each invoice on its order (once: an order
    /// with an invoice keeps it) and moves the order through ``OrderLifecycle`` (only a
    /// created order moves; a paid or cancelled one keeps its status).
    static let markInvoicedStatement = """
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
    package func markInvoiced(_ invoices: [InvoicedOrder]) async throws -> [InvoiceRecorded] {
        try await client.transaction { connection in
            let applicable = try await Inbox.claim(invoices, on: connection, event: \.event)
            guard !applicable.isEmpty else { return [] }
            let updated = try await connection.query(
                Self.markInvoicedStatement, applicable.map(\.orderID), applicable.map(\.invoiceID),
                applicable.map(\.invoiceNumber),
                applicable.map(\.dueAt))
            let recorded = try updated.map {
                InvoiceRecorded(orderID: try $0.decode(UUID.self, at: 0), placedAt: try $0.decode(Date.self, at: 1))
            }
            let done = Set(recorded.map(\.orderID))
            let others = Array(Set(applicable.map(\.orderID)).subtracting(done))
            if !others.isEmpty {
                // Invoiced already (nothing to do), or not stored: the batch is rolled back.
                let stored = Set(
                    try await connection.query("SELECT id FROM orders WHERE id = ANY($1::uuid[])", others).map {
                        try $0.decode(UUID.self, at: 0)
                    })
                let missing = others.filter { !stored.contains($0) }
                if !missing.isEmpty {
                    throw OrderStoreError(
                        .unknownOrder, "invoices for orders not stored: \(missing.map { $0.uuidString.lowercased() })")
                }
            }
            if !done.isEmpty { try await connection.notify(OrderChangeFeed.channel) }
            return recorded
        }
    }

    // MARK: - Payment and cancellation

    package func cancel(_ orderID: UUID, reason: OrderCancelled.Reason, at time: Date, traceparent: String?)
        async throws -> CancelResult?
    {
        let stamp = self.stamp
        return try await client.transaction { connection in
            let rows = try await connection.query(
                "SELECT \(OrderRows.columns) FROM orders WHERE id = $1 FOR UPDATE", orderID)
            guard var order = try await OrderRows.decode(Array(rows), client: client, on: connection).first else {
                return nil
            }
            let from = order.status
            let outcome = order.cancel(reason: reason, at: time)
            guard case .moves = outcome else { return CancelResult(order: order, outcome: outcome) }
            try await Self.recordCancellations([(order, from)], traceparent: traceparent, stamp: stamp, on: connection)
            return CancelResult(order: order, outcome: outcome)
        }
    }

    /// Writes cancelled orders (moved from the given statuses), their changes and their
    /// `order.cancelled` events, inside the caller's transaction (the orders are locked).
    static func recordCancellations(
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
    static let refundedStatement = """
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
                    "SELECT \(OrderRows.columns) FROM orders WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
                    overdue.map(\.orderID))
                let now = Date()
                var cancelled: [(order: Order, from: Order.Status)] = []
                for order in try await OrderRows.decode(Array(rows), client: client, on: connection) {
                    found.insert(order.id)
                    var moved = order
                    guard case .moves = moved.cancel(reason: .paymentOverdue, at: now) else { continue }
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
}
