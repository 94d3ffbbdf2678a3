package import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// The customer replica in PostgreSQL (table `customers`): customers as customer-service last
/// announced them, behind a cache.
package struct PostgresCustomerReplica: CustomerReplica {
    let client: PostgresClient
    let customers = CustomerCache()

    /// Creates the replica over `client`.
    package init(client: PostgresClient) {
        self.client = client
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
}
