import Foundation
public import Postgres

/// Writes events into the outbox inside the caller's transaction.
public enum Outbox {
    /// The `NOTIFY` channel that wakes the relay; delivered when the transaction commits.
    public static let channel = "outbox"

    /// Appends `messages` to the outbox on `connection`, which must be inside the transaction
    /// that makes the state change they announce.
    public static func append(_ messages: [OutboxMessage], on connection: PostgresConnection) async throws {
        guard !messages.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO outbox (id, event_type, exchange, body, traceparent, app_id, created_at)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
            """,
            messages.map(\.id), messages.map(\.eventType), messages.map(\.exchange),
            messages.map { String(decoding: $0.body, as: UTF8.self) }, messages.map(\.traceparent),
            messages.map(\.appID), messages.map(\.createdAt))
        // The relay of this process hears of it at commit; others by a throttled NOTIFY.
        try await connection.notify(channel)
    }
}
