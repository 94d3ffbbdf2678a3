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
        try await connection.query(insert(parametersFrom: 1), bindings(messages))
        // The relay of this process hears of it at commit; others by a throttled NOTIFY.
        try await connection.notify(channel)
    }

    /// The `INSERT` of ``bindings(_:)`` into the outbox, its parameters numbered from
    /// `first`: for a data-modifying CTE that writes a state change and its events in one
    /// statement (one round trip, one implicit transaction). Call
    /// `connection.notify(Outbox.channel)` after it.
    public static func insert(parametersFrom first: Int) -> String {
        let p = (first..<(first + 7)).map { "$\($0)" }
        return """
            INSERT INTO outbox (id, event_type, exchange, body, traceparent, app_id, created_at)
            SELECT * FROM unnest(\(p[0])::text[], \(p[1])::text[], \(p[2])::text[], \(p[3])::text[], \(p[4])::text[], \(p[5])::text[], \(p[6])::timestamptz[])
            """
    }

    /// The seven parameters of ``insert(parametersFrom:)`` for `messages`.
    public static func bindings(_ messages: [OutboxMessage]) -> [any PostgresEncodable] {
        [
            messages.map(\.id), messages.map(\.eventType), messages.map(\.exchange),
            messages.map { String(decoding: $0.body, as: UTF8.self) }, messages.map(\.traceparent),
            messages.map(\.appID), messages.map(\.createdAt),
        ]
    }
}
