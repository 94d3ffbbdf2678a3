import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// customer-service's storage in PostgreSQL.
package struct PostgresCustomerRepository: CustomerRepository {
    private let client: PostgresClient
    private let stamp: EventStamp

    /// Creates the repository; `stamp` marks the events it queues.
    package init(client: PostgresClient, stamp: EventStamp) {
        self.client = client
        self.stamp = stamp
    }

    /// The transaction-scoped advisory lock that lets only one of several replicas starting
    /// together seed the customers.
    static let seedingLock: Int64 = 7_263_536

    private static let columns = "id, name, email, address, orders_count, version, created_at, updated_at"

    package func create(_ new: NewCustomer, id: UUID, at time: Date, traceparent: String?) async throws -> Customer {
        let customer = Customer(
            id: id, name: new.name, email: new.email, address: new.address, ordersCount: 0, version: 1, createdAt: time,
            updatedAt: time)
        let event = try stamp.message(
            CustomerCreated(customer: customer.snapshot), subject: id, time: time, traceparent: traceparent)
        do {
            try await client.transaction { connection in
                try await insert(customer, on: connection)
                try await Outbox.append([event], on: connection)
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            throw CustomerStoreError(error.constraint == "customers_pkey" ? .idTaken : .emailTaken)
        }
        return customer
    }

    private func insert(_ customer: Customer, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO customers (id, name, email, address, orders_count, version, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, customer.id, customer.name, customer.email, customer.address, customer.ordersCount, customer.version,
            customer.createdAt, customer.updatedAt)
    }

    package func customer(id: UUID) async throws -> Customer? {
        try await client.query("SELECT \(Self.columns) FROM customers WHERE id = $1", id).first.map(Self.decode)
    }

    package func customers(page: PageRequest) async throws -> [Customer] {
        let (sql, bindings) = page.query(select: Self.columns, from: "customers", orderedBy: "created_at")
        return try await client.withConnection { try await $0.query(sql, bindings) }.map(Self.decode)
    }

    package func countOrders(_ orders: [CountedOrder]) async throws {
        try await client.transaction { connection in
            let fresh = try await Inbox.claim(orders, on: connection, event: \.event)
            guard !fresh.isEmpty else { return }
            let ids = Set(fresh.map(\.customerID)).sorted { $0.uuidString < $1.uuidString }
            // Lock in a fixed order so two consumers never deadlock on the same customers. An
            // order's events all lock its customer first, so its tally row below is read and
            // written by one transaction at a time.
            let locked = Set(
                try await connection.query(
                    "SELECT id FROM customers WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE", ids
                )
                .map { try $0.decode(UUID.self, at: 0) })
            if locked.count < ids.count {
                let missing = Set(ids).subtracting(locked)
                let type = fresh.first { missing.contains($0.customerID) }?.event.type ?? "order.created"
                throw PoisonMessage(
                    "\(type) names unknown customer \(missing.map { $0.uuidString.lowercased() }.sorted().joined(separator: ", "))"
                )
            }
            var states: [UUID: OrderTally.State] = [:]
            for row in try await connection.query(
                "SELECT order_id, state FROM order_tally WHERE order_id = ANY($1::uuid[])",
                Array(Set(fresh.map(\.orderID))))
            {
                states[try row.decode(UUID.self, at: 0)] = OrderTally.State(
                    rawValue: try row.decode(String.self, at: 1))
            }
            let batch = OrderTally.apply(fresh, to: states)
            let (changed, counts) = (batch.changed, batch.counts)
            if !changed.isEmpty {
                let orderIDs = Array(changed.keys)
                try await connection.query(
                    """
                    INSERT INTO order_tally (order_id, customer_id, state)
                    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])
                    ON CONFLICT (order_id) DO UPDATE SET state = excluded.state
                    """, orderIDs, orderIDs.map { changed[$0]!.customer }, orderIDs.map { changed[$0]!.state.rawValue })
            }
            let moved = counts.keys.sorted { $0.uuidString < $1.uuidString }
            guard !moved.isEmpty else { return }
            try await connection.query(
                """
                UPDATE customers AS c
                SET orders_count = c.orders_count + d.n, version = c.version + 1, updated_at = now(), count_changed = true
                FROM unnest($1::uuid[], $2::int[]) AS d(id, n)
                WHERE c.id = d.id
                """, moved, moved.map { counts[$0]! })
        }
    }

    package func publishCountChanges(limit: Int) async throws -> Int {
        let stamp = self.stamp
        return try await client.transaction { connection in
            // SKIP LOCKED: a customer being counted right now is left for the next round
            // rather than waited for, and two replicas never announce the same change.
            let rows = try await connection.query(
                """
                WITH due AS (
                    SELECT id FROM customers WHERE count_changed ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
                )
                UPDATE customers AS c SET count_changed = false FROM due WHERE c.id = due.id
                RETURNING c.id, c.name, c.email, c.address, c.orders_count, c.version, c.created_at, c.updated_at
                """, limit)
            let events = try rows.map(Self.decode).sorted { $0.id.uuidString < $1.id.uuidString }.map { customer in
                try stamp.message(
                    CustomerUpdated(customer: customer.snapshot), subject: customer.id, time: customer.updatedAt)
            }
            try await Outbox.append(events, on: connection)
            return events.count
        }
    }

    package func seedIfEmpty(_ customers: [NewCustomer], ids: [UUID], at time: Date) async throws -> Bool {
        let stamp = self.stamp
        return try await client.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock($1)", Self.seedingLock)
            let count = try await connection.query("SELECT count(*) FROM customers")[0].decode(Int.self, at: 0)
            guard count == 0 else { return false }
            var events: [OutboxMessage] = []
            for (new, id) in zip(customers, ids) {
                let customer = Customer(
                    id: id, name: new.name, email: new.email, address: new.address, ordersCount: 0, version: 1,
                    createdAt: time,
                    updatedAt: time)
                try await insert(customer, on: connection)
                events.append(try stamp.message(CustomerCreated(customer: customer.snapshot), subject: id, time: time))
            }
            try await Outbox.append(events, on: connection)
            return true
        }
    }

    private static func decode(_ row: PostgresRow) throws -> Customer {
        Customer(
            id: try row.decode(UUID.self, at: 0), name: try row.decode(String.self, at: 1),
            email: try row.decode(String.self, at: 2),
            address: try row.decode(String.self, at: 3), ordersCount: try row.decode(Int.self, at: 4),
            version: try row.decode(Int.self, at: 5),
            createdAt: try row.decode(Date.self, at: 6), updatedAt: try row.decode(Date.self, at: 7))
    }
}
