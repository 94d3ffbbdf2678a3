public import Postgres

/// The inbox table: which events a service's database has applied.
public enum Inbox {
    /// Records `events` as applied, inside the caller's transaction, and returns those seen
    /// for the first time, in order and each once: apply exactly these.
    public static func claim(_ events: [IncomingEvent], on connection: PostgresConnection) async throws -> [IncomingEvent] {
        guard !events.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            INSERT INTO inbox (event_id, event_type)
            SELECT * FROM unnest($1::text[], $2::text[])
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
            """, events.map(\.id), events.map(\.type))
        var fresh = Set(try rows.map { try $0.decode(String.self, at: 0) })
        // Keep the delivery order, and each id once even if it was delivered twice.
        return events.filter { fresh.remove($0.id) != nil }
    }
}
