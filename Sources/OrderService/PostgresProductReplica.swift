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
            "SELECT sku, name, price, active, available, version, updated_at FROM products WHERE sku = ANY($1::text[])",
            skus)
        var products: [String: ProductSnapshot] = [:]
        for row in rows {
            let product = ProductSnapshot(
                sku: try row.decode(String.self, at: 0), name: try row.decode(String.self, at: 1),
                price: Money(try row.decode(Decimal.self, at: 2)), active: try row.decode(Bool.self, at: 3),
                available: try row.decode(Int.self, at: 4), version: try row.decode(Int.self, at: 5),
                updatedAt: try row.decode(Date.self, at: 6))
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
                INSERT INTO products (sku, name, price, active, available, version, updated_at)
                SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::bool[], $5::int[], $6::int[], $7::timestamptz[])
                ON CONFLICT (sku) DO UPDATE SET
                    name = excluded.name, price = excluded.price, active = excluded.active,
                    available = excluded.available, version = excluded.version, updated_at = excluded.updated_at
                WHERE products.version < excluded.version
                """, list.map(\.sku), list.map(\.name), list.map(\.price.amount), list.map(\.active),
                list.map(\.available), list.map(\.version), list.map(\.updatedAt))
        }
    }
}
