public import Postgres

/// The outbox and inbox tables that every service's database holds, as migrations the
/// services put first in their own lists (versions 1 and 2; services number theirs from 10).
public enum MessagingSchema {
    /// `outbox`: events written with the state change they announce, until published.
    /// `position` orders them; the partial index keeps the relay's scan to unpublished rows.
    public static let outbox = PostgresMigration(
        version: 1, name: "create outbox",
        sql: """
            CREATE TABLE outbox (
                position bigserial PRIMARY KEY,
                id text NOT NULL UNIQUE,
                event_type text NOT NULL,
                exchange text NOT NULL,
                body text NOT NULL,
                traceparent text,
                app_id text NOT NULL,
                created_at timestamptz NOT NULL,
                published_at timestamptz,
                attempts integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT now(),
                last_error text
            );
            CREATE INDEX outbox_unpublished ON outbox (position) WHERE published_at IS NULL;
            """)

    /// `inbox`: ids of the events a service has applied, written in the same transaction as
    /// their effect, so a redelivered or duplicated event changes nothing.
    public static let inbox = PostgresMigration(
        version: 2, name: "create inbox",
        sql: """
            CREATE TABLE inbox (
                event_id text PRIMARY KEY,
                event_type text NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now()
            );
            """)

    /// Both, in order.
    public static let migrations = [outbox, inbox]
}
