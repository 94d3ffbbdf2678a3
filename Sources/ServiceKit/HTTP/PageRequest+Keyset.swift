public import Postgres

extension PageRequest {
    /// This page of a table, as SQL: `SELECT columns FROM table WHERE filter AND (time, id) >
    /// (cursor) ORDER BY time, id LIMIT n`, with `filter`'s bindings first (it numbers its
    /// parameters from `$1`). An index on `(time, id)` (after the filter's columns) makes it
    /// a seek.
    public func query(
        select columns: String, from table: String, orderedBy time: String, id: String = "id", filter: String? = nil,
        filterBindings: [any PostgresEncodable] = []
    ) -> (sql: String, bindings: [any PostgresEncodable]) {
        var conditions = filter.map { [$0] } ?? []
        var bindings = filterBindings
        if let after {
            bindings += [after.time, after.id]
            conditions.append("(\(time), \(id)) > ($\(bindings.count - 1), $\(bindings.count))")
        }
        bindings.append(limit)
        let condition = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return (
            "SELECT \(columns) FROM \(table)\(condition) ORDER BY \(time), \(id) LIMIT $\(bindings.count)", bindings
        )
    }

    /// This page of `items` (in any order), sorted by `key` as ``query(select:from:orderedBy:id:filter:filterBindings:)``
    /// sorts rows: what the in-memory repositories answer.
    public func page<Item>(of items: some Sequence<Item>, key: (Item) -> PageCursor) -> [Item] {
        let sorted = items.map { (key($0), $0) }.sorted { $0.0 < $1.0 }
        let rest = after.map { after in sorted.drop { $0.0 <= after } } ?? sorted[...]
        return rest.prefix(limit).map(\.1)
    }
}
