public import Postgres

/// The inbox table: which events a service's database has applied.
public enum Inbox {
    /// Records `events` as applied, inside the caller's transaction, and returns those seen
    /// for the first time, in order and each once: apply exactly these.
    public static func claim(_ events: [IncomingEvent], on connection: PostgresConnection) async throws
        -> [IncomingEvent]
    {
        try await claim(events, on: connection) { $0 }
    }

    /// Records the events of `items` as applied, inside the caller's transaction, and returns
    /// the items whose event is seen for the first time, in order, one item per event.
    ///
    /// Items come back rather than ids because a batch can hold the same event twice (a
    /// republished message next to the original): filtering the batch by "is its id fresh"
    /// would apply both copies, where this returns only the first.
    public static func claim<Item>(
        _ items: [Item], on connection: PostgresConnection, event: (Item) -> IncomingEvent
    ) async throws -> [Item] {
        guard !items.isEmpty else { return [] }
        let events = items.map(event)
        let rows = try await connection.query(
            """
            INSERT INTO inbox (event_id, event_type)
            SELECT * FROM unnest($1::text[], $2::text[])
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
            """, events.map(\.id), events.map(\.type))
        var fresh = Set(try rows.map { try $0.decode(String.self, at: 0) })
        return zip(items, events).filter { fresh.remove($0.1.id) != nil }.map(\.0)
    }
}
