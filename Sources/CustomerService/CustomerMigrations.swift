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
                """)
    ]
}
