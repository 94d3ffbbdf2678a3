import Contracts
package import Foundation
package import Postgres
import ServiceKit

/// The live view's change log in PostgreSQL: numbering the changes ``PostgresOrderStore``
/// queued (`order_change_queue` → `order_changes`), reading them, counting statuses.
package struct PostgresOrderChangeLog: OrderChangeLog {
    let client: PostgresClient

    /// Creates the change log over `client`.
    package init(client: PostgresClient) {
        self.client = client
    }

    /// The changes `filter` picks (a `WHERE … ORDER BY … LIMIT` over order_changes, as `c`),
    /// each with its order and the replica's customer: what ``decodeChanges(_:)`` reads. The
    /// order and customer are looked up per change (LATERAL), by primary key: a join the
    /// planner may turn into a scan of every order, and does on a young table whose
    /// statistics say it is small.
    static func changesQuery(_ filter: String) -> String {
        """
        SELECT c.sequence, c.event, c.invoice_id, c.invoice_number, c.at, o.id, o.customer_id, o.total, o.created_at,
               cu.name, cu.email, cu.address, cu.orders_count, cu.version, cu.updated_at, c.from_status
        FROM (SELECT * FROM order_changes \(filter)) AS c
        JOIN LATERAL (SELECT id, customer_id, total, created_at FROM orders WHERE id = c.order_id) AS o ON true
        LEFT JOIN LATERAL (
            SELECT name, email, address, orders_count, version, updated_at FROM customers WHERE id = c.customer_id
        ) AS cu ON true
        ORDER BY c.sequence
        """
    }

    static let changesAfter = changesQuery("WHERE sequence > $1 ORDER BY sequence LIMIT $2")
    static let customerChangesAfter = changesQuery(
        "WHERE customer_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3")
    static let orderHistory = changesQuery("WHERE order_id = $1 ORDER BY sequence")

    /// The advisory lock that makes one sequencer at a time number changes (per database).
    static let sequencerLock: Int64 = 0x6D65_7263_6174_6F31  // "mercato1"

    /// Moves the settled changes from the queue into order_changes, numbered. A transaction's
    /// changes are settled once its xid is below every running transaction's, so no change
    /// of an older transaction can appear after them; they are numbered in (xid, id) order —
    /// except that one order's changes are numbered in the order they happened, which xids do
    /// not tell: a transaction takes its xid at its first write (the `invoice.paid` one when it
    /// claims its inbox row, a batch at its first order), possibly before it waits for an
    /// order's lock that another transaction with a later xid holds and changes first.
    ///
    /// An order's changes happen in lifecycle order (created, then invoiced, then paid or
    /// cancelled, then refunded: at most one of each, ``changeRank``), each under the order's
    /// lock after the one before committed. So a change waits (stays queued) while an earlier
    /// one of its order is still queued above the horizon, and within a round each order's
    /// changes take the sequence numbers their (xid, id) places give, in lifecycle order.
    /// `settled_xid`, below which everything was taken, stops at the oldest change waiting.
    static let settleStatement = """
        WITH horizon AS (
            SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xid
        ), candidates AS (
            -- Every row below settled_xid was taken by an earlier round.
            SELECT q.id, q.xid, q.order_id, \(changeRank("q.event")) AS rank FROM order_change_queue AS q
            WHERE q.xid >= (SELECT settled_xid FROM order_change_sequence) AND q.xid < (SELECT xid FROM horizon)
        ), waiting AS (
            -- Changes whose order has an earlier change not settled yet (committed, with an xid
            -- at or above the horizon): numbered in a later round, after it.
            SELECT c.id, c.xid FROM candidates AS c
            WHERE EXISTS (
                SELECT 1 FROM order_change_queue AS w
                WHERE w.xid >= (SELECT xid FROM horizon) AND w.order_id = c.order_id AND \(changeRank("w.event")) < c.rank)
        ), settled AS (
            DELETE FROM order_change_queue
            WHERE id IN (SELECT id FROM candidates EXCEPT SELECT id FROM waiting)
            RETURNING id, xid, order_id, customer_id, event, invoice_id, invoice_number, at, from_status
        ), ranked AS (
            SELECT q.*, row_number() OVER (ORDER BY q.xid, q.id) AS slot,
                   row_number() OVER (PARTITION BY q.order_id ORDER BY q.xid, q.id) AS place,
                   row_number() OVER (PARTITION BY q.order_id ORDER BY \(changeRank("q.event")), q.id) AS turn
            FROM settled AS q
        ), numbering AS (
            UPDATE order_change_sequence
            SET last = last + (SELECT count(*) FROM settled),
                settled_xid = least((SELECT xid FROM horizon), (SELECT min(xid) FROM waiting))
            WHERE EXISTS (SELECT 1 FROM settled) OR EXISTS (SELECT 1 FROM waiting)
            RETURNING last
        )
        INSERT INTO order_changes (sequence, order_id, customer_id, event, invoice_id, invoice_number, at, from_status)
        SELECT s.last - (SELECT count(*) FROM settled) + slots.slot, q.order_id, q.customer_id,
               q.event, q.invoice_id, q.invoice_number, q.at, q.from_status
        FROM ranked AS q JOIN ranked AS slots ON slots.order_id = q.order_id AND slots.place = q.turn, numbering AS s
        """

    /// An order change's place in its order's life, as SQL over an `event` column: changes of
    /// one order happen in this order, at most one of each rank.
    static func changeRank(_ column: String) -> String {
        "CASE \(column) WHEN 'order.created' THEN 0 WHEN 'order.invoiced' THEN 1 WHEN 'order.refunded' THEN 3 ELSE 2 END"
    }

    package func settleChanges() async throws -> Bool {
        try await client.transaction { connection in
            // Every transaction that committed before this call has an xid below `before` (the
            // statement's snapshot is taken before the lock is waited for). One sequencer at a
            // time; a concurrent one is waited for (it is quick), then this round sees what
            // committed meanwhile.
            let before =
                try await connection.query(
                    "SELECT pg_snapshot_xmax(pg_current_snapshot())::text, pg_advisory_xact_lock($1)",
                    Self.sequencerLock
                ).first?.decode(String.self, at: 0) ?? "0"
            let numbered = try await connection.query(Self.settleStatement).affectedRows
            // The other replicas' feeds read them now rather than at their next poll.
            if numbered > 0 { try await connection.notify(OrderChangeFeed.channel) }
            let waiting = try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM order_change_queue WHERE xid < $1::xid8)", before)
            return try waiting.first?.decode(Bool.self, at: 0) == false
        }
    }

    package func lastChangeSequence() async throws -> Int64 {
        try await client.query("SELECT last FROM order_change_sequence").first?.decode(Int64.self, at: 0) ?? 0
    }

    package func changes(after sequence: Int64, customerID: UUID?, limit: Int) async throws -> [OrderChange] {
        let rows: PostgresRows
        if let customerID {
            rows = try await client.query(Self.customerChangesAfter, customerID, sequence, limit)
        } else {
            rows = try await client.query(Self.changesAfter, sequence, limit)
        }
        return try await decodeChanges(Array(rows))
    }

    package func history(of orderID: UUID) async throws -> [OrderChange] {
        // A transaction still running that began before the order's change holds its number
        // back; such transactions end within milliseconds, so wait a moment for them.
        for _ in 0..<50 where try await !settleChanges() { try await Task.sleep(for: .milliseconds(10)) }
        let rows = try await client.query(Self.orderHistory, orderID)
        return try await decodeChanges(Array(rows))
    }

    package func statusCounts(customerID: UUID?) async throws -> OrderStatusCounts {
        // One statement, one snapshot. `orders` already shows the changes still queued (not
        // numbered, so after `last`): they are taken back out, so the counts are exactly
        // those of the changes up to `last`. A queued change moved one order from its
        // from_status (none for order.created) to the status its event names.
        let filter = customerID == nil ? "" : "WHERE customer_id = $1"
        let sql = """
            WITH queued AS (
                SELECT event, from_status FROM order_change_queue \(filter)
            ), adjustments AS (
                SELECT status, count(*) AS n FROM orders \(filter) GROUP BY status
                UNION ALL
                SELECT \(OrderChange.Kind.sqlStatus(of: "event")), -count(*)
                FROM queued GROUP BY 1
                UNION ALL
                SELECT from_status, count(*) FROM queued WHERE from_status IS NOT NULL GROUP BY from_status
            )
            SELECT s.last, a.status, sum(a.n)::bigint FROM order_change_sequence AS s, adjustments AS a GROUP BY s.last, a.status
            UNION ALL
            SELECT last, NULL, 0 FROM order_change_sequence
            """
        let bindings: [any PostgresEncodable] = customerID.map { [$0] } ?? []
        let rows = try await client.withConnection { try await $0.query(sql, bindings) }
        var counts: [Order.Status: Int] = [:]
        var sequence: Int64 = 0
        for row in rows {
            sequence = try row.decode(Int64.self, at: 0)
            guard let text = try row.decode(String?.self, at: 1) else { continue }
            guard let status = Order.Status(rawValue: text) else {
                throw OrderStoreError(
                    .unknownStatus, "orders have status \(text.prefix(40)), which this version does not know")
            }
            let count = try row.decode(Int.self, at: 2)
            if count != 0 { counts[status] = count }
        }
        return OrderStatusCounts(counts: counts, sequence: sequence)
    }

    /// Decodes change rows (``changesQuery(_:)``) and loads their orders' items with one more query.
    func decodeChanges(_ rows: [PostgresRow]) async throws -> [OrderChange] {
        var changes = try rows.map { row in
            let text = try row.decode(String.self, at: 1)
            guard let kind = OrderChange.Kind(rawValue: text) else {
                throw OrderStoreError(
                    .unknownStatus, "an order change is \(text.prefix(40)), which this version does not know")
            }
            let at = try row.decode(Date.self, at: 4)
            let order = Order(
                id: try row.decode(UUID.self, at: 5), customerID: try row.decode(UUID.self, at: 6), status: kind.status,
                items: [],
                total: Money(try row.decode(Decimal.self, at: 7)), invoiceID: try row.decode(UUID?.self, at: 2),
                invoiceNumber: try row.decode(String?.self, at: 3), createdAt: try row.decode(Date.self, at: 8),
                updatedAt: at)
            var customer: CustomerSnapshot?
            if let name = try row.decode(String?.self, at: 9) {
                customer = CustomerSnapshot(
                    customerID: order.customerID, name: name, email: try row.decode(String.self, at: 10),
                    address: try row.decode(String.self, at: 11), ordersCount: try row.decode(Int.self, at: 12),
                    version: try row.decode(Int.self, at: 13), updatedAt: try row.decode(Date.self, at: 14))
            }
            return OrderChange(
                sequence: try row.decode(Int64.self, at: 0), kind: kind, at: at, order: order, customer: customer,
                previousStatus: try row.decode(String?.self, at: 15).flatMap(Order.Status.init(rawValue:)))
        }
        guard !changes.isEmpty else { return [] }
        let lines = try await OrderRows.lines(of: Array(Set(changes.map(\.order.id))), client: client)
        for index in changes.indices { changes[index].order.items = lines[changes[index].order.id] ?? [] }
        return changes
    }
}
