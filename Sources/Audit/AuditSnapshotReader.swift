import Foundation
public import Postgres

/// Reads an ``AuditSnapshot``: each database in one `REPEATABLE READ READ ONLY` transaction
/// (one consistent snapshot per database, and nothing written even by mistake), invoice-service's
/// and customer-service's before order-service's, so that whatever they say about an order
/// was caused by an order the later snapshot holds.
public struct AuditSnapshotReader: Sendable {
    let orders: PostgresClient
    let customers: PostgresClient
    let invoices: PostgresClient
    let catalog: PostgresClient?

    /// Creates the reader over each service's database (a read-only role suffices); without
    /// `catalog` the stock is not audited.
    public init(orders: PostgresClient, customers: PostgresClient, invoices: PostgresClient, catalog: PostgresClient?) {
        self.orders = orders
        self.customers = customers
        self.invoices = invoices
        self.catalog = catalog
    }

    /// Reads the databases.
    public func read() async throws -> AuditSnapshot {
        var snapshot = AuditSnapshot()
        // The database's clock, not this machine's: orders' timestamps are the services'.
        snapshot.takenAt = try await invoices.query("SELECT now()")[0].decode(Date.self, at: 0)
        // Before order-service's, as the others: a reservation exists only after its order.
        if let catalog {
            try await readOnly(catalog) { connection in
                snapshot.products = try await connection.query(
                    """
                    SELECT p.sku, p.on_hand, p.reserved,
                           coalesce((SELECT sum(a.on_hand_after - a.on_hand_before) FROM stock_adjustments AS a
                                     WHERE a.sku = p.sku), 0)::int,
                           p.on_order,
                           coalesce((SELECT sum(o.quantity - o.received) FROM purchase_orders AS o
                                     WHERE o.sku = p.sku AND o.state <> 'received'), 0)::int
                    FROM products AS p
                    """
                ).map { row in
                    AuditSnapshot.Product(
                        sku: try row.decode(String.self, at: 0), onHand: try row.decode(Int.self, at: 1),
                        reserved: try row.decode(Int.self, at: 2), adjusted: try row.decode(Int.self, at: 3),
                        onOrder: try row.decode(Int.self, at: 4), stillOrdered: try row.decode(Int.self, at: 5))
                }
                for row in try await connection.query("SELECT order_id, state, lines::text FROM reservations") {
                    snapshot.reservations[try row.decode(UUID.self, at: 0)] = AuditSnapshot.Reservation(
                        state: try row.decode(String.self, at: 1),
                        lines: try JSONDecoder().decode(
                            [String: Int].self, from: Data(try row.decode(String.self, at: 2).utf8)))
                }
                try await Self.readOutbox(of: "catalog-service", on: connection, into: &snapshot)
            }
        }
        try await readOnly(invoices) { connection in
            snapshot.invoices = try await connection.query("SELECT id, number, order_id, status, total FROM invoices")
                .map { row in
                    AuditSnapshot.Invoice(
                        id: try row.decode(UUID.self, at: 0), number: try row.decode(String.self, at: 1),
                        orderID: try row.decode(UUID.self, at: 2),
                        status: try row.decode(String.self, at: 3), total: try row.decode(Decimal.self, at: 4))
                }
            snapshot.payments = try await connection.query(
                "SELECT id, invoice_id, status, amount, refund_due, updated_at FROM payments"
            ).map { row in
                AuditSnapshot.Payment(
                    key: try row.decode(UUID.self, at: 0).uuidString.lowercased(),
                    invoiceID: try row.decode(UUID.self, at: 1),
                    status: try row.decode(String.self, at: 2), amount: try row.decode(Decimal.self, at: 3),
                    refundDue: try row.decode(String?.self, at: 4),
                    updatedAt: try row.decode(Date.self, at: 5))
            }
            // The simulated provider's books; a real provider's report would be read here.
            snapshot.charges = try await connection.query("SELECT key, status, amount FROM simulated_provider_charges")
                .map { row in
                    AuditSnapshot.Charge(
                        key: try row.decode(String.self, at: 0), status: try row.decode(String.self, at: 1),
                        amount: try row.decode(Decimal.self, at: 2))
                }
            try await Self.readOutbox(of: "invoice-service", on: connection, into: &snapshot)
        }
        try await readOnly(customers) { connection in
            for row in try await connection.query("SELECT order_id, customer_id, state FROM order_tally") {
                snapshot.tallies[try row.decode(UUID.self, at: 0)] = (
                    try row.decode(UUID.self, at: 1), try row.decode(String.self, at: 2)
                )
            }
            for row in try await connection.query("SELECT id, orders_count FROM customers") {
                snapshot.ordersCounts[try row.decode(UUID.self, at: 0)] = try row.decode(Int.self, at: 1)
            }
            try await Self.readOutbox(of: "customer-service", on: connection, into: &snapshot)
        }
        try await readOnly(orders) { connection in
            // Each order's units by SKU (orders placed before the catalog have none).
            var productLines: [UUID: [String: Int]] = [:]
            if snapshot.products != nil {
                for row in try await connection.query(
                    "SELECT order_id, sku, sum(quantity)::int FROM order_items WHERE sku IS NOT NULL GROUP BY order_id, sku"
                ) {
                    productLines[try row.decode(UUID.self, at: 0), default: [:]][try row.decode(String.self, at: 1)] =
                        try row.decode(Int.self, at: 2)
                }
            }
            snapshot.orders = try await connection.query(
                "SELECT id, customer_id, status, created_at, updated_at, cancel_reason FROM orders"
            ).map { row in
                let id = try row.decode(UUID.self, at: 0)
                var order = AuditSnapshot.Order(
                    id: id, customerID: try row.decode(UUID.self, at: 1),
                    status: try row.decode(String.self, at: 2),
                    createdAt: try row.decode(Date.self, at: 3), updatedAt: try row.decode(Date.self, at: 4),
                    cancelReason: try row.decode(String?.self, at: 5), namesProducts: productLines[id] != nil)
                order.productLines = productLines[id] ?? [:]
                return order
            }
            for row in try await connection.query(
                "SELECT order_id, sequence, event, from_status FROM order_changes ORDER BY order_id, sequence")
            {
                snapshot.changes[try row.decode(UUID.self, at: 0), default: []].append(
                    AuditSnapshot.Change(
                        sequence: try row.decode(Int64.self, at: 1), event: try row.decode(String.self, at: 2),
                        fromStatus: try row.decode(String?.self, at: 3))
                )
            }
            snapshot.ordersWithQueuedChanges = Set(
                try await connection.query("SELECT DISTINCT order_id FROM order_change_queue").map {
                    try $0.decode(UUID.self, at: 0)
                })
            snapshot.changesInOrderSince = try await connection.query(
                "SELECT coalesce(max(sequence), 0) FROM order_changes_in_order_since")[0]
                .decode(Int64.self, at: 0)
            try await Self.readOutbox(of: "order-service", on: connection, into: &snapshot)
        }
        return snapshot
    }

    /// The unpublished outbox rows of one service: how many, and whom they are about.
    private static func readOutbox(
        of service: String, on connection: PostgresConnection, into snapshot: inout AuditSnapshot
    ) async throws {
        let subjects = try await connection.query(
            "SELECT body::json->>'subject' FROM outbox WHERE published_at IS NULL"
        ).map {
            try $0.decode(String?.self, at: 0)
        }
        snapshot.unsentOutbox[service] = subjects.count
        snapshot.unsentSubjects.formUnion(subjects.compactMap { $0.flatMap(UUID.init(uuidString:)) })
    }

    private func readOnly(_ client: PostgresClient, _ body: (PostgresConnection) async throws -> Void) async throws {
        try await client.transaction(isolation: .repeatableRead) { connection in
            try await connection.query("SET TRANSACTION READ ONLY")
            try await body(connection)
        }
    }
}
