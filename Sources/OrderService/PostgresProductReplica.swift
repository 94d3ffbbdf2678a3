package import Contracts
import Foundation
package import Postgres
package import ServiceKit

/// The product replica in PostgreSQL (table `products`): products as catalog-service last
/// announced them.
package struct PostgresProductReplica: ProductReplica {
    let client: PostgresClient

    /// Creates the replica over `client`.
    package init(client: PostgresClient) {
        self.client = client
    }

    package func products(skus: [String]) async throws -> [String: ProductSnapshot] {
        let rows = try await client.query(
            """
            SELECT sku, name, price, active, available, version, updated_at, reserved, on_order
            FROM products WHERE sku = ANY($1::text[])
            """, skus)
        var products: [String: ProductSnapshot] = [:]
        for row in rows {
            let product = ProductSnapshot(
                sku: try row.decode(String.self, at: 0), name: try row.decode(String.self, at: 1),
                price: Money(try row.decode(Decimal.self, at: 2)), active: try row.decode(Bool.self, at: 3),
                available: try row.decode(Int.self, at: 4), version: try row.decode(Int.self, at: 5),
                updatedAt: try row.decode(Date.self, at: 6), reserved: try row.decode(Int?.self, at: 7),
                onOrder: try row.decode(Int?.self, at: 8))
            products[product.sku] = product
        }
        return products
    }

    package func saveProducts(_ products: [ProductSnapshot], events: [IncomingEvent]) async throws {
        try await client.transaction { connection in
            // From events: only those not seen before. From an HTTP lookup: all.
            let applicable =
                events.isEmpty
                ? products : try await Inbox.claim(Array(zip(events, products)), on: connection, event: \.0).map(\.1)
            // Of several versions of one product in the batch, the newest is enough.
            var newest: [String: ProductSnapshot] = [:]
            for product in applicable where (newest[product.sku]?.version ?? .min) < product.version {
                newest[product.sku] = product
            }
            guard !newest.isEmpty else { return }
            let list = newest.values.sorted { $0.sku < $1.sku }
            try await connection.query(
                """
                INSERT INTO products (sku, name, price, active, available, version, updated_at, reserved, on_order)
                SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::bool[], $5::int[], $6::int[],
                                     $7::timestamptz[], $8::int[], $9::int[])
                ON CONFLICT (sku) DO UPDATE SET
                    name = excluded.name, price = excluded.price, active = excluded.active,
                    available = excluded.available, version = excluded.version, updated_at = excluded.updated_at,
                    reserved = excluded.reserved, on_order = excluded.on_order
                WHERE products.version < excluded.version
                """, list.map(\.sku), list.map(\.name), list.map(\.price.amount), list.map(\.active),
                list.map(\.available), list.map(\.version), list.map(\.updatedAt), list.map(\.reserved),
                list.map(\.onOrder))
        }
    }

    package func recordReplenishments(_ deliveries: [(sku: String, units: Int)], events: [IncomingEvent])
        async throws
    {
        try await client.transaction { connection in
            let fresh = try await Inbox.claim(Array(zip(events, deliveries)), on: connection, event: \.0).map(\.1)
            let units = fresh.reduce(into: [String: Int]()) { $0[$1.sku, default: 0] += $1.units }
            guard !units.isEmpty else { return }
            // A delivery of a product the replica has not heard of yet waits for its
            // product.created, which always comes first from the catalog's outbox.
            try await connection.query(
                """
                UPDATE products AS p SET replenished = p.replenished + d.units
                FROM unnest($1::text[], $2::int[]) AS d(sku, units) WHERE p.sku = d.sku
                """, Array(units.keys), Array(units.values))
        }
    }

    package func stock(limit: Int) async throws -> [StockLevel] {
        try await client.query(
            "SELECT sku, name, available, reserved, on_order, replenished FROM products ORDER BY sku LIMIT $1", limit
        ).map { row in
            StockLevel(
                sku: try row.decode(String.self, at: 0), name: try row.decode(String.self, at: 1),
                available: try row.decode(Int.self, at: 2), reserved: try row.decode(Int?.self, at: 3),
                onOrder: try row.decode(Int?.self, at: 4), replenished: try row.decode(Int.self, at: 5))
        }
    }
}
