import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// catalog-service's reservations in PostgreSQL (table `reservations`), over `products`.
package struct PostgresStockStore: StockStore {
    private let client: PostgresClient
    private let stamp: EventStamp

    /// Creates the store over `client`; `stamp` marks the events it queues.
    package init(client: PostgresClient, stamp: EventStamp) {
        self.client = client
        self.stamp = stamp
    }

    package func apply(_ events: [StockEvent], at time: Date) async throws -> [StockLedger.Outcome] {
        let stamp = self.stamp
        return try await client.transaction { connection in
            let fresh = try await Inbox.claim(events, on: connection, event: \.event)
            guard !fresh.isEmpty else { return [] }
            // Each order first, then its products in SKU order. A new order has no reservation
            // row to lock yet, so the order is locked by its key: otherwise its order.created
            // and its order.cancelled, in two replicas' batches at once, could both decide on
            // "no reservation" and the last to write would win (reserved units left held by a
            // cancelled order, or held by none). Taken in key order, so batches never deadlock.
            let ids = Array(Set(fresh.map(\.orderID))).sorted { $0.uuidString < $1.uuidString }
            try await connection.query(
                """
                SELECT count(pg_advisory_xact_lock(\(Self.orderLockClass), k))
                FROM (SELECT DISTINCT hashtext(o::text) AS k FROM unnest($1::uuid[]) AS o ORDER BY k) AS keys
                """, ids)
            var held: [UUID: StockBatch.Holding] = [:]
            for row in try await connection.query(
                "SELECT order_id, state, lines FROM reservations WHERE order_id = ANY($1::uuid[]) ORDER BY order_id FOR UPDATE",
                ids)
            {
                let state = StockLedger.State(rawValue: try row.decode(String.self, at: 1)) ?? .rejected
                held[try row.decode(UUID.self, at: 0)] = (state, try Self.lines(try row.decode(String.self, at: 2)))
            }
            let skus = fresh.reduce(into: Set<String>()) {
                $0.formUnion($1.skus(holding: held[$1.orderID]?.lines ?? [:]))
            }
            var products: [String: Product] = [:]
            for row in try await connection.query(
                "SELECT \(PostgresProductStore.columns) FROM products WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE",
                Array(skus).sorted())
            {
                let product = try PostgresProductStore.decode(row)
                products[product.sku] = product
            }
            var batch = StockBatch(held: held, products: products)
            for entry in fresh { batch.apply(entry) }
            let changed = batch.changedOrders.sorted { $0.uuidString < $1.uuidString }.compactMap { id in
                batch.held[id].map { (id, $0) }
            }
            if !changed.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO reservations (order_id, state, lines, updated_at)
                    SELECT o, s, l::jsonb, $4 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS d(o, s, l)
                    ON CONFLICT (order_id) DO UPDATE SET state = excluded.state, lines = excluded.lines,
                        updated_at = excluded.updated_at
                    """, changed.map(\.0), changed.map(\.1.state.rawValue), changed.map { Self.json($0.1.lines) }, time)
            }
            var updated = batch.changedProducts(at: time)
            if !updated.isEmpty {
                try await connection.query(
                    """
                    UPDATE products AS p SET reserved = d.reserved, on_hand = d.on_hand, version = d.version,
                        updated_at = $5
                    FROM unnest($1::text[], $2::int[], $3::int[], $4::int[]) AS d(sku, reserved, on_hand, version)
                    WHERE p.sku = d.sku
                    """, updated.map(\.sku), updated.map(\.reserved), updated.map(\.onHand), updated.map(\.version),
                    time)
            }
            let opened = try await PostgresPurchaseOrderStore.openIfNeeded(updated, at: time, on: connection)
            for index in updated.indices { updated[index].onOrder += opened[updated[index].sku, default: 0] }
            try await Outbox.append(
                try StockEvent.announcements(of: batch.applied, products: updated, stamp: stamp, at: time),
                on: connection)
            return batch.outcomes
        }
    }

    package func reservation(of orderID: UUID) async throws -> (state: StockLedger.State, lines: [String: Int])? {
        try await client.query("SELECT state, lines FROM reservations WHERE order_id = $1", orderID).first.map { row in
            (
                StockLedger.State(rawValue: try row.decode(String.self, at: 0)) ?? .rejected,
                try Self.lines(try row.decode(String.self, at: 1))
            )
        }
    }

    /// The first key of the orders' advisory locks (`pg_advisory_xact_lock(class, hash)`):
    /// keys of their own, apart from any other lock's.
    static let orderLockClass: Int32 = 7_263_538

    static func json(_ lines: [String: Int]) -> String {
        (try? String(decoding: JSONEncoder().encode(lines), as: UTF8.self)) ?? "{}"
    }

    static func lines(_ json: String) throws -> [String: Int] {
        try JSONDecoder().decode([String: Int].self, from: Data(json.utf8))
    }
}
