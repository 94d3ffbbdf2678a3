import Postgres

/// customer-service's schema (after the shared outbox and inbox, versions 1 and 2).
enum CustomerMigrations {
    static let all = [
        PostgresMigration(
            version: 10, name: "create customers",
            sql: """
                CREATE TABLE customers (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    email text NOT NULL,
                    address text NOT NULL,
                    orders_count integer NOT NULL DEFAULT 0 CHECK (orders_count >= 0),
                    version integer NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                CREATE UNIQUE INDEX customers_email ON customers (lower(email));
                CREATE INDEX customers_page ON customers (created_at, id);
                """),
        PostgresMigration(
            version: 11, name: "order tally",
            sql: """
                -- Which orders orders_count holds, so that it counts orders placed and not
                -- cancelled, each change exactly once whichever of order.created and
                -- order.cancelled arrives first: 'counted' (created seen, +1), 'cancelled_first'
                -- (cancelled seen before created: nothing to take back yet), 'uncounted'
                -- (both seen: net 0). Orders counted before this version have no row; a
                -- cancellation of one of them is taken as arriving first (see the README).
                CREATE TABLE order_tally (
                    order_id uuid PRIMARY KEY,
                    customer_id uuid NOT NULL,
                    state text NOT NULL CHECK (state IN ('counted', 'cancelled_first', 'uncounted'))
                );
                """),
        PostgresMigration(
            version: 12, name: "coalesced count changes",
            sql: """
                -- orders_count moved since the last customer.updated: announced by the
                -- count publisher once per interval, not once per counted batch.
                ALTER TABLE customers ADD COLUMN count_changed boolean NOT NULL DEFAULT false;
                CREATE INDEX customers_count_changed ON customers (id) WHERE count_changed;
                """),
    ]
}
