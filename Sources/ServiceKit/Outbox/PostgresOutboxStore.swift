import Foundation
public import Postgres

/// The outbox in the service's PostgreSQL database.
///
/// A relay claims rows with `FOR UPDATE SKIP LOCKED` inside a transaction that lasts until
/// the broker has confirmed them, so several replicas relay side by side without taking the
/// same rows, and a relay that dies mid-batch leaves its rows to the others.
public struct PostgresOutboxStore: OutboxStore {
    private let client: PostgresClient
    private let backoff: OutboxBackoff
    /// The `LISTEN outbox` session that hears other replicas' commits: a `Service` to run
    /// before the relay (``ServiceRuntime`` does).
    public let listener: PostgresListener

    /// Creates the store over `client`, whose refused messages wait out `backoff`; nothing
    /// connects until ``listener`` runs.
    public init(client: PostgresClient, backoff: OutboxBackoff = .init()) {
        self.client = client
        self.backoff = backoff
        self.listener = client.listen([Outbox.channel])
    }

    public func relay(limit: Int, publish: @Sendable ([OutboxMessage]) async -> PublishOutcome) async throws -> Int {
        try await client.transaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, event_type, exchange, body, traceparent, app_id, created_at
                FROM outbox
                WHERE published_at IS NULL AND next_attempt_at <= now()
                ORDER BY position
                LIMIT $1
                FOR UPDATE SKIP LOCKED
                """, limit)
            guard !rows.isEmpty else { return 0 }
            let messages = try rows.map { row in
                OutboxMessage(
                    id: try row.decode(String.self, at: 0), eventType: try row.decode(String.self, at: 1),
                    exchange: try row.decode(String.self, at: 2), body: Data(try row.decode(String.self, at: 3).utf8),
                    traceparent: try row.decode(String?.self, at: 4), createdAt: try row.decode(Date.self, at: 6),
                    appID: try row.decode(String.self, at: 5))
            }
            let outcome = await publish(messages)
            if !outcome.confirmed.isEmpty {
                try await connection.query(
                    "UPDATE outbox SET published_at = now() WHERE id = ANY($1::text[])", outcome.confirmed)
            }
            if !outcome.refused.isEmpty {
                // Refused messages (unroutable, nacked) back off: by default 2, 4, 8 … 300
                // seconds. The exponent is capped, or power() overflows after 1,024 refusals.
                let ids = Array(outcome.refused.keys)
                try await connection.query(
                    """
                    UPDATE outbox AS o
                    SET attempts = o.attempts + 1, last_error = f.reason,
                        next_attempt_at = now() + make_interval(secs => least($4::float8, $3::float8 * power(2, least(o.attempts, 30))))
                    FROM unnest($1::text[], $2::text[]) AS f(id, reason)
                    WHERE o.id = f.id
                    """, ids, ids.map { outcome.refused[$0] ?? "" }, backoff.first.timeInterval,
                    backoff.longest.timeInterval)
            }
            return rows.count
        }
    }

    public func backlog() async throws -> (count: Int, oldestAgeSeconds: Double) {
        let row = try await client.query(
            """
            SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
            FROM outbox WHERE published_at IS NULL
            """)[0]
        return (try row.decode(Int.self, at: 0), try row.decode(Double.self, at: 1))
    }

    /// Deletes what was published more than `age` ago, and inbox entries older than
    /// `inboxAge` (redeliveries come within minutes; a week is generous).
    public func prune(publishedBefore age: Duration, inboxAge: Duration) async throws {
        try await client.query(
            "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)", Double(age.components.seconds))
        try await client.query(
            "DELETE FROM inbox WHERE received_at < now() - make_interval(secs => $1)",
            Double(inboxAge.components.seconds))
    }

    /// Wakes on every commit of this client that appended to the outbox (at once), on other
    /// replicas' commits (through ``listener``, while it runs) and on every reconnection of
    /// the listening session (notifications sent while it was away are not replayed). One
    /// reader: the relay.
    public func changes() -> any AsyncSequence<Void, Never> & Sendable {
        listener.map { _ in () }
    }
}
