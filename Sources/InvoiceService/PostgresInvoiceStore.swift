import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// invoice-service's invoices in PostgreSQL.
package struct PostgresInvoiceStore: InvoiceStore {
    let client: PostgresClient
    let stamp: EventStamp

    /// Creates the store; `stamp` marks the events it queues.
    package init(client: PostgresClient, stamp: EventStamp) {
        self.client = client
        self.stamp = stamp
    }

    /// Invoicing takes it shared, a cancellation exclusively: a cancellation waits for the
    /// invoicing transactions in flight and holds off new ones until it commits, so an order
    /// cannot be invoiced by a transaction that missed its cancellation (both would otherwise
    /// see the other's write only after committing).
    static let invoicingLock: Int64 = 0x6D65_7263_6174_6F32  // "mercato2"

    package func invoice(_ orders: [OrderToInvoice], terms: InvoicingTerms, at time: Date) async throws {
        let stamp = self.stamp
        try await client.transaction { connection in
            var seenOrders = Set<UUID>()
            var candidates = try await Inbox.claim(orders, on: connection, event: \.event).filter {
                seenOrders.insert($0.order.orderID).inserted
            }
            guard !candidates.isEmpty else { return }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let year = calendar.component(.year, from: time)
            // The shared invoicing lock, then the year's counter: the counter serializes
            // invoicing, so the check below cannot race another transaction invoicing the same
            // order. One round trip: the lock is taken by the row the upsert inserts (so
            // before it), and the upsert's no-op update locks the counter row (as FOR UPDATE
            // would) and returns it.
            let last = try await connection.query(
                """
                INSERT INTO invoice_counters (year, last_number)
                SELECT $2, 0 FROM (SELECT pg_advisory_xact_lock_shared($1)) AS invoicing_lock
                ON CONFLICT (year) DO UPDATE SET last_number = invoice_counters.last_number
                RETURNING last_number
                """, Self.invoicingLock, year)[0].decode(Int.self, at: 0)
            // A statement of its own: its snapshot must be taken after the counter's lock.
            let skipped = Set(
                try await connection.query(
                    """
                    SELECT order_id FROM invoices WHERE order_id = ANY($1::uuid[])
                    UNION ALL SELECT order_id FROM cancelled_orders WHERE order_id = ANY($1::uuid[])
                    """, candidates.map(\.order.orderID)
                ).map { try $0.decode(UUID.self, at: 0) })
            candidates.removeAll { skipped.contains($0.order.orderID) }
            guard !candidates.isEmpty else { return }
            let invoices = candidates.enumerated().map { offset, entry in
                Invoice(
                    for: entry.order, id: UUID.timeOrdered(at: time),
                    number: Invoice.number(year: year, sequence: last + offset + 1), taxRate: terms.taxRate,
                    issuedAt: time, dueAt: terms.dueDate(issuedAt: time))
            }
            let lines = invoices.flatMap { invoice in
                invoice.lines.enumerated().map { (invoice.id, $0.offset, $0.element) }
            }
            let events = try zip(invoices, candidates).map { invoice, entry in
                try stamp.message(invoice.createdEvent, subject: invoice.id, time: time, traceparent: entry.traceparent)
            }
            // Counter, invoices, lines and events in one statement: one round trip while the
            // counter is held. The lines' foreign key is checked at the statement's end,
            // when their invoices exist.
            var bindings: [any PostgresEncodable] = [year, last + invoices.count]
            bindings +=
                [
                    invoices.map(\.id), invoices.map(\.number), invoices.map(\.orderID), invoices.map(\.customerID),
                    invoices.map(\.subtotal.amount), invoices.map(\.taxRate), invoices.map(\.tax.amount),
                    invoices.map(\.total.amount),
                    invoices.map(\.issuedAt), invoices.map(\.dueAt),
                ] as [any PostgresEncodable]
            bindings +=
                [
                    lines.map(\.0), lines.map(\.1), lines.map(\.2.productName), lines.map(\.2.quantity),
                    lines.map(\.2.unitPrice.amount),
                    lines.map(\.2.lineTotal.amount),
                ] as [any PostgresEncodable]
            bindings += Outbox.bindings(events)
            try await connection.query(
                """
                WITH counter AS (
                    UPDATE invoice_counters SET last_number = $2 WHERE year = $1
                ), new_invoices AS (
                    INSERT INTO invoices (id, number, order_id, customer_id, subtotal, tax_rate, tax, total, issued_at, due_at)
                    SELECT * FROM unnest($3::uuid[], $4::text[], $5::uuid[], $6::uuid[], $7::numeric[], $8::numeric[], $9::numeric[],
                                         $10::numeric[], $11::timestamptz[], $12::timestamptz[])
                ), new_lines AS (
                    INSERT INTO invoice_lines (invoice_id, position, product_name, quantity, unit_price, line_total)
                    SELECT * FROM unnest($13::uuid[], $14::int[], $15::text[], $16::int[], $17::numeric[], $18::numeric[])
                )
                \(Outbox.insert(parametersFrom: 19))
                """, bindings)
            try await connection.notify(Outbox.channel)
        }
    }

    package func cancelOrders(_ cancellations: [CancelledOrder]) async throws -> Int {
        let stamp = self.stamp
        return try await client.transaction { connection in
            var seen = Set<UUID>()
            let fresh = try await Inbox.claim(cancellations, on: connection, event: \.event).filter {
                seen.insert($0.cancellation.orderID).inserted
            }
            guard !fresh.isEmpty else { return 0 }
            try await connection.query("SELECT pg_advisory_xact_lock($1)", Self.invoicingLock)
            let orderIDs = fresh.map(\.cancellation.orderID)
            try await connection.query(
                """
                INSERT INTO cancelled_orders (order_id, reason, cancelled_at)
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) ON CONFLICT (order_id) DO NOTHING
                """, orderIDs, fresh.map(\.cancellation.reason.rawValue), fresh.map(\.cancellation.cancelledAt))
            let invoices = try await Self.load(
                try await connection.query(
                    "SELECT \(Self.columns) FROM invoices WHERE order_id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
                    orderIDs),
                on: connection)
            let byOrder = Dictionary(uniqueKeysWithValues: fresh.map { ($0.cancellation.orderID, $0) })
            var events: [OutboxMessage] = []
            var refunds = 0
            let now = Date()
            for invoice in invoices {
                let entry = byOrder[invoice.orderID]!
                let transition = InvoiceLifecycle.transition(from: invoice.status, on: .orderCancelled)
                guard transition.next == .void else { continue }
                try await connection.query(
                    "UPDATE invoices SET status = 'void', voided_at = $2, void_reason = $3 WHERE id = $1", invoice.id,
                    now,
                    entry.cancellation.reason.rawValue)
                // The payment that paid it goes back (captured later, a payment owes its refund
                // when it settles: Invoice.take).
                let captured = try await connection.query(
                    "UPDATE payments SET refund_due = $2 WHERE invoice_id = $1 AND status = 'captured' AND refund_due IS NULL RETURNING amount",
                    invoice.id, transition.refund?.rawValue ?? RefundReason.invoiceVoid.rawValue
                ).first.map { Money(try $0.decode(Decimal.self, at: 0)) }
                if captured != nil { refunds += 1 }
                events.append(
                    try stamp.message(
                        invoice.voidedEvent(reason: entry.cancellation.reason, refundDue: captured, at: now),
                        subject: invoice.id, time: now,
                        traceparent: entry.traceparent))
            }
            try await Outbox.append(events, on: connection)
            return refunds
        }
    }

    static let columns =
        "id, number, order_id, customer_id, subtotal, tax_rate, tax, total, issued_at, status, due_at, paid_at, voided_at, void_reason, overdue_at"

    package func invoice(id: UUID) async throws -> Invoice? {
        try await client.withConnection { connection in
            try await Self.load(
                try await connection.query("SELECT \(Self.columns) FROM invoices WHERE id = $1", id), on: connection
            ).first
        }
    }

    package func invoice(orderID: UUID) async throws -> Invoice? {
        try await client.withConnection { connection in
            try await Self.load(
                try await connection.query("SELECT \(Self.columns) FROM invoices WHERE order_id = $1", orderID),
                on: connection
            ).first
        }
    }

    package func invoices(page: PageRequest, customerID: UUID?) async throws -> [Invoice] {
        let (sql, bindings) = page.query(
            select: Self.columns, from: "invoices", orderedBy: "issued_at",
            filter: customerID.map { _ in "customer_id = $1" },
            filterBindings: customerID.map { [$0] } ?? [])
        return try await client.withConnection { connection in
            try await Self.load(try await connection.query(sql, bindings), on: connection)
        }
    }

    static func load(_ rows: PostgresRows, on connection: PostgresConnection) async throws -> [Invoice] {
        var invoices = try rows.map { row in
            var invoice = Invoice(
                id: try row.decode(UUID.self, at: 0), number: try row.decode(String.self, at: 1),
                orderID: try row.decode(UUID.self, at: 2),
                customerID: try row.decode(UUID.self, at: 3), lines: [],
                subtotal: Money(try row.decode(Decimal.self, at: 4)),
                taxRate: try row.decode(Decimal.self, at: 5), tax: Money(try row.decode(Decimal.self, at: 6)),
                total: Money(try row.decode(Decimal.self, at: 7)), issuedAt: try row.decode(Date.self, at: 8),
                dueAt: try row.decode(Date?.self, at: 10))
            invoice.status = InvoiceLifecycle.Status(rawValue: try row.decode(String.self, at: 9)) ?? .issued
            invoice.paidAt = try row.decode(Date?.self, at: 11)
            invoice.voidedAt = try row.decode(Date?.self, at: 12)
            invoice.voidReason = try row.decode(String?.self, at: 13)
            invoice.overdueAt = try row.decode(Date?.self, at: 14)
            return invoice
        }
        guard !invoices.isEmpty else { return [] }
        let lineRows = try await connection.query(
            """
            SELECT invoice_id, product_name, quantity, unit_price FROM invoice_lines
            WHERE invoice_id = ANY($1::uuid[]) ORDER BY invoice_id, position
            """, invoices.map(\.id))
        var lines: [UUID: [OrderLine]] = [:]
        for row in lineRows {
            lines[try row.decode(UUID.self, at: 0), default: []].append(
                OrderLine(
                    productName: try row.decode(String.self, at: 1), quantity: try row.decode(Int.self, at: 2),
                    unitPrice: Money(try row.decode(Decimal.self, at: 3))))
        }
        for index in invoices.indices { invoices[index].lines = lines[invoices[index].id] ?? [] }
        return invoices
    }

    package func closeOverdue(at time: Date, limit: Int) async throws -> Int {
        let stamp = self.stamp
        return try await client.transaction { connection in
            // First the invoices' locks, the ones payments take: then a statement of its own,
            // whose snapshot is taken after them, sees every payment started before (each is
            // inserted under its invoice's lock), and no new one can start meanwhile.
            let due = try await Self.load(
                try await connection.query(
                    """
                    SELECT \(Self.columns) FROM invoices AS i WHERE status = 'issued' AND due_at <= $1
                      AND NOT EXISTS (SELECT 1 FROM payments AS p WHERE p.invoice_id = i.id AND p.status = 'pending')
                    ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
                    """, time, limit), on: connection)
            guard !due.isEmpty else { return 0 }
            let inFlight = Set(
                try await connection.query(
                    "SELECT DISTINCT invoice_id FROM payments WHERE invoice_id = ANY($1::uuid[]) AND status = 'pending'",
                    due.map(\.id)
                ).map { try $0.decode(UUID.self, at: 0) })
            var closed: [Invoice] = []
            for var invoice in due where !inFlight.contains(invoice.id) {
                guard let next = InvoiceLifecycle.transition(from: invoice.status, on: .dueDatePassed).next else {
                    continue
                }
                invoice.status = next
                invoice.overdueAt = time
                closed.append(invoice)
            }
            guard !closed.isEmpty else { return 0 }
            try await connection.query(
                "UPDATE invoices SET status = 'overdue', overdue_at = $2 WHERE id = ANY($1::uuid[])", closed.map(\.id),
                time)
            try await Outbox.append(
                try closed.map { try stamp.message($0.overdueEvent(at: time), subject: $0.id, time: time) },
                on: connection)
            return closed.count
        }
    }
}
