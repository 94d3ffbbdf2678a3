import Contracts
import Foundation
import Postgres

/// Reading orders from their two tables (`orders`, `order_items`): shared by the order store
/// and the change log, which both return whole orders.
enum OrderRows {
    /// The columns of `orders` that ``decode(_:client:on:)`` reads, in its order.
    static let columns =
        "id, customer_id, status, total, invoice_id, invoice_number, created_at, updated_at, payment_due_at, paid_at, cancelled_at, cancel_reason, refunded_at, invoice_voided_at"

    /// Decodes order rows and loads their items with one more query.
    static func decode(_ rows: [PostgresRow], client: PostgresClient, on connection: PostgresConnection? = nil)
        async throws -> [Order]
    {
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
        let lines = try await lines(of: orders.map(\.id), client: client, on: connection)
        for index in orders.indices { orders[index].items = lines[orders[index].id] ?? [] }
        return orders
    }

    /// The lines of `orders`, in the order given, with one query: an index lookup per order
    /// (LATERAL), never a scan of every order's lines.
    static func lines(of orders: [UUID], client: PostgresClient, on connection: PostgresConnection? = nil)
        async throws -> [UUID: [OrderLine]]
    {
        let sql = """
            SELECT k.id, i.product_name, i.quantity, i.unit_price, i.sku FROM unnest($1::uuid[]) AS k(id)
            JOIN LATERAL (
                SELECT product_name, quantity, unit_price, sku, position FROM order_items WHERE order_id = k.id ORDER BY position
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
                    sku: try row.decode(String?.self, at: 4),
                    productName: try row.decode(String.self, at: 1), quantity: try row.decode(Int.self, at: 2),
                    unitPrice: Money(try row.decode(Decimal.self, at: 3))))
        }
        return lines
    }
}
