import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// catalog-service's reservations in PostgreSQL (table `reservations`), over `products`.
package struct PostgresStockStore: StockStore {
    private let client: PostgresClient

    /// Creates the store over `client`.
    package init(client: PostgresClient) {
        self.client = client
    }

    package func apply(_ events: [StockEvent]) async throws -> [StockLedger.Outcome] {
        try await client.transaction { connection in
            let fresh = try await Inbox.claim(events, on: connection, event: \.event)
            guard !fresh.isEmpty else { return [] }
            // The orders' rows first, locked in id order, then their products in SKU order.
            let ids = Array(Set(fresh.map(\.orderID))).sorted { $0.uuidString < $1.uuidString }
            var held: [UUID: (state: StockLedger.State, lines: [String: Int])] = [:]
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
            var outcomes: [StockLedger.Outcome] = []
            var touched = Set<String>()
            for entry in fresh {
                let current = held[entry.orderID]
                let outcome = StockLedger.apply(
                    entry.change, to: current?.state, holding: current?.lines ?? [:], products: products)
                outcomes.append(outcome)
                guard outcome.changed, let state = outcome.state else { continue }
                var lines = current?.lines ?? [:]
                if state == .reserved, case .reserve(let wanted) = entry.change { lines = wanted }
                if state != .reserved && state != .sold { lines = [:] }
                held[entry.orderID] = (state, lines)
                for (sku, delta) in outcome.reservedDelta { products[sku]?.reserved += delta; touched.insert(sku) }
                for (sku, delta) in outcome.onHandDelta { products[sku]?.onHand += delta; touched.insert(sku) }
            }
            let changed = held.filter { ids.contains($0.key) }
            if !changed.isEmpty {
                let list = changed.sorted { $0.key.uuidString < $1.key.uuidString }
                try await connection.query(
                    """
                    INSERT INTO reservations (order_id, state, lines, updated_at)
                    SELECT o, s, l::jsonb, now() FROM unnest($1::uuid[], $2::text[], $3::text[]) AS d(o, s, l)
                    ON CONFLICT (order_id) DO UPDATE SET state = excluded.state, lines = excluded.lines,
                        updated_at = excluded.updated_at
                    """, list.map(\.key), list.map(\.value.state.rawValue), list.map { Self.json($0.value.lines) })
            }
            let updated = touched.sorted().compactMap { products[$0] }
            if !updated.isEmpty {
                try await connection.query(
                    """
                    UPDATE products AS p SET reserved = d.reserved, on_hand = d.on_hand, updated_at = now()
                    FROM unnest($1::text[], $2::int[], $3::int[]) AS d(sku, reserved, on_hand) WHERE p.sku = d.sku
                    """, updated.map(\.sku), updated.map(\.reserved), updated.map(\.onHand))
            }
            return outcomes
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

    static func json(_ lines: [String: Int]) -> String {
        (try? String(decoding: JSONEncoder().encode(lines), as: UTF8.self)) ?? "{}"
    }

    static func lines(_ json: String) throws -> [String: Int] {
        try JSONDecoder().decode([String: Int].self, from: Data(json.utf8))
    }
}
