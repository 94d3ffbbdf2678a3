import Contracts
public import Foundation
public import Postgres
public import ServiceKit

/// invoice-service's storage in PostgreSQL.
public struct PostgresInvoiceRepository: InvoiceRepository {
    private let client: PostgresClient
    private let stamp: EventStamp

    /// Creates the repository; `stamp` marks the events it queues.
    public init(client: PostgresClient, stamp: EventStamp) {
        self.client = client
        self.stamp = stamp
    }

    public func invoice(_ orders: [OrderToInvoice], taxRate: Decimal, at time: Date) async throws {
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
            // Take the year's counter first: it serializes invoicing, so the check below
            // cannot race another transaction invoicing the same order.
            try await connection.query(
                "INSERT INTO invoice_counters (year, last_number) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING", year)
            let last = try await connection.query("SELECT last_number FROM invoice_counters WHERE year = $1 FOR UPDATE", year)[0]
                .decode(Int.self, at: 0)
            let invoiced = Set(
                try await connection.query("SELECT order_id FROM invoices WHERE order_id = ANY($1::uuid[])", candidates.map(\.order.orderID))
                    .map { try $0.decode(UUID.self, at: 0) })
            candidates.removeAll { invoiced.contains($0.order.orderID) }
            guard !candidates.isEmpty else { return }
            let invoices = candidates.enumerated().map { offset, entry in
                Invoice(for: entry.order, id: UUID(), number: Invoice.number(year: year, sequence: last + offset + 1), taxRate: taxRate, issuedAt: time)
            }
            try await connection.query("UPDATE invoice_counters SET last_number = $2 WHERE year = $1", year, last + invoices.count)
            try await connection.query(
                """
                INSERT INTO invoices (id, number, order_id, customer_id, subtotal, tax_rate, tax, total, issued_at)
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::numeric[], $6::numeric[], $7::numeric[],
                                     $8::numeric[], $9::timestamptz[])
                """, invoices.map(\.id), invoices.map(\.number), invoices.map(\.orderID), invoices.map(\.customerID),
                invoices.map(\.subtotal.amount), invoices.map(\.taxRate), invoices.map(\.tax.amount), invoices.map(\.total.amount),
                invoices.map(\.issuedAt))
            let lines = invoices.flatMap { invoice in invoice.lines.enumerated().map { (invoice.id, $0.offset, $0.element) } }
            try await connection.query(
                """
                INSERT INTO invoice_lines (invoice_id, position, product_name, quantity, unit_price, line_total)
                SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[], $5::numeric[], $6::numeric[])
                """, lines.map(\.0), lines.map(\.1), lines.map(\.2.productName), lines.map(\.2.quantity), lines.map(\.2.unitPrice.amount),
                lines.map(\.2.lineTotal.amount))
            let events = try zip(invoices, candidates).map { invoice, entry in
                try stamp.message(invoice.createdEvent, subject: invoice.id, time: time, traceparent: entry.traceparent)
            }
            try await Outbox.append(events, on: connection)
        }
    }

    private static let columns = "id, number, order_id, customer_id, subtotal, tax_rate, tax, total, issued_at"

    public func invoice(id: UUID) async throws -> Invoice? {
        try await load(try await client.query("SELECT \(Self.columns) FROM invoices WHERE id = $1", id)).first
    }

    public func invoice(orderID: UUID) async throws -> Invoice? {
        try await load(try await client.query("SELECT \(Self.columns) FROM invoices WHERE order_id = $1", orderID)).first
    }

    public func invoices(page: PageRequest, customerID: UUID?) async throws -> [Invoice] {
        let (sql, bindings) = page.query(
            select: Self.columns, from: "invoices", orderedBy: "issued_at", filter: customerID.map { _ in "customer_id = $1" },
            filterBindings: customerID.map { [$0] } ?? [])
        return try await load(try await client.withConnection { try await $0.query(sql, bindings) })
    }

    private func load(_ rows: PostgresRows) async throws -> [Invoice] {
        var invoices = try rows.map { row in
            Invoice(
                id: try row.decode(UUID.self, at: 0), number: try row.decode(String.self, at: 1), orderID: try row.decode(UUID.self, at: 2),
                customerID: try row.decode(UUID.self, at: 3), lines: [], subtotal: Money(try row.decode(Decimal.self, at: 4)),
                taxRate: try row.decode(Decimal.self, at: 5), tax: Money(try row.decode(Decimal.self, at: 6)),
                total: Money(try row.decode(Decimal.self, at: 7)), issuedAt: try row.decode(Date.self, at: 8))
        }
        guard !invoices.isEmpty else { return [] }
        let lineRows = try await client.query(
            """
            SELECT invoice_id, product_name, quantity, unit_price FROM invoice_lines
            WHERE invoice_id = ANY($1::uuid[]) ORDER BY invoice_id, position
            """, invoices.map(\.id))
        var lines: [UUID: [OrderLine]] = [:]
        for row in lineRows {
            lines[try row.decode(UUID.self, at: 0), default: []].append(
                OrderLine(productName: try row.decode(String.self, at: 1), quantity: try row.decode(Int.self, at: 2),
                          unitPrice: Money(try row.decode(Decimal.self, at: 3))))
        }
        for index in invoices.indices { invoices[index].lines = lines[invoices[index].id] ?? [] }
        return invoices
    }
}
