import Postgres

/// order-service's schema (after the shared outbox and inbox, versions 1 and 2).
enum OrderMigrations {
    static let all = [
        PostgresMigration(
            version: 10, name: "create orders",
            sql: """
                CREATE TABLE orders (
                    id uuid PRIMARY KEY,
                    customer_id uuid NOT NULL,
                    status text NOT NULL CHECK (status IN ('created', 'invoiced')),
                    total numeric(14, 2) NOT NULL CHECK (total >= 0),
                    invoice_id uuid,
                    invoice_number text,
                    idempotency_key text UNIQUE,
                    idempotency_request text,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                CREATE INDEX orders_page ON orders (created_at, id);
                CREATE INDEX orders_customer_page ON orders (customer_id, created_at, id);
                CREATE TABLE order_items (
                    order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
                    position integer NOT NULL,
                    product_name text NOT NULL,
                    quantity integer NOT NULL CHECK (quantity > 0),
                    unit_price numeric(14, 2) NOT NULL CHECK (unit_price >= 0),
                    line_total numeric(16, 2) NOT NULL,
                    PRIMARY KEY (order_id, position)
                );
                """),
        PostgresMigration(
            version: 11, name: "create customer replica",
            sql: """
                CREATE TABLE customers (
                    id uuid PRIMARY KEY,
                    name text NOT NULL,
                    email text NOT NULL,
                    address text NOT NULL,
                    orders_count integer NOT NULL,
                    version integer NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                """),
        PostgresMigration(
            version: 12, name: "create parked invoices",
            sql: """
                CREATE TABLE parked_invoices (
                    order_id uuid PRIMARY KEY,
                    invoice_id uuid NOT NULL,
                    invoice_number text NOT NULL,
                    received_at timestamptz NOT NULL DEFAULT now()
                );
                """),
    ]
}
