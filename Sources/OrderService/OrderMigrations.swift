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
            PostgresMigration(
            version: 13, name: "create order changes",
            sql: """
                -- Every change of every order, numbered. The numbers come from the one row of
                -- order_change_sequence, which each writing transaction updates: its row lock,
                -- held until commit, makes transactions that record changes commit one after
                -- the other in number order, so a reader never sees change n+1 before change n
                -- (a plain sequence would let a later number commit first, and a reader
                -- resuming after it would miss the earlier one for good).
                CREATE TABLE order_change_sequence (
                    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    last bigint NOT NULL
                );
                CREATE TABLE order_changes (
                    sequence bigint PRIMARY KEY,
                    order_id uuid NOT NULL,
                    customer_id uuid NOT NULL,
                    event text NOT NULL CHECK (event IN ('order.created', 'order.invoiced')),
                    invoice_id uuid,
                    invoice_number text,
                    at timestamptz NOT NULL
                );
                CREATE INDEX order_changes_order ON order_changes (order_id, sequence);
                CREATE INDEX order_changes_customer ON order_changes (customer_id, sequence);
                -- Orders placed before this version get the history they would have had.
                INSERT INTO order_changes (sequence, order_id, customer_id, event, invoice_id, invoice_number, at)
                SELECT row_number() OVER (ORDER BY c.at, c.step, c.order_id), c.order_id, c.customer_id, c.event,
                       c.invoice_id, c.invoice_number, c.at
                FROM (
                    SELECT id AS order_id, customer_id, 'order.created' AS event, NULL::uuid AS invoice_id,
                           NULL::text AS invoice_number, created_at AS at, 1 AS step
                    FROM orders
                    UNION ALL
                    SELECT id, customer_id, 'order.invoiced', invoice_id, invoice_number, updated_at, 2
                    FROM orders WHERE status = 'invoiced'
                ) AS c;
                INSERT INTO order_change_sequence (last) SELECT coalesce(max(sequence), 0) FROM order_changes;
                """),
    ]
}
