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
                -- Every change of every order, numbered in one order that every replica agrees
                -- on and that never lets a later number become visible before an earlier one:
                -- a stream resuming after n then misses nothing.
                --
                -- The transactions that change orders only append to order_change_queue (no
                -- lock, no number: the hot path stays as parallel as it was). The sequencer
                -- (PostgresOrderChangeLog.settleChanges, one at a time under an advisory lock)
                -- moves the changes of transactions that have ended - xid below the oldest
                -- running transaction's - into order_changes, numbered from
                -- order_change_sequence in (xid, id) order, in one transaction. Numbering at
                -- write time instead needs a lock held to commit, which serialized every
                -- order-service commit and cost 40% of the throughput.
                CREATE TABLE order_change_queue (
                    id bigserial NOT NULL,
                    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
                    order_id uuid NOT NULL,
                    customer_id uuid NOT NULL,
                    event text NOT NULL,
                    invoice_id uuid,
                    invoice_number text,
                    at timestamptz NOT NULL
                );
                -- The sequencer reads from where it stopped (settled_xid): the queue's dead
                -- rows, thousands a second until vacuum removes them, are never visited again.
                CREATE INDEX order_change_queue_settling ON order_change_queue (xid, id);
                CREATE TABLE order_change_sequence (
                    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    last bigint NOT NULL,
                    settled_xid xid8 NOT NULL DEFAULT '0'
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
        PostgresMigration(
            version: 14, name: "order lifecycle: paid and cancelled",
            sql: """
                -- OrderLifecycle: created -> invoiced -> paid; created/invoiced -> cancelled.
                ALTER TABLE orders DROP CONSTRAINT orders_status_check;
                ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('created', 'invoiced', 'paid', 'cancelled'));
                ALTER TABLE orders
                    ADD COLUMN payment_due_at timestamptz,
                    ADD COLUMN paid_at timestamptz,
                    ADD COLUMN cancelled_at timestamptz,
                    ADD COLUMN cancel_reason text,
                    ADD COLUMN refunded_at timestamptz,
                    ADD COLUMN invoice_voided_at timestamptz;
                -- The due-date sweeper's work: invoiced orders by due date, nothing else.
                CREATE INDEX orders_payment_due ON orders (payment_due_at) WHERE status = 'invoiced';
                ALTER TABLE order_changes DROP CONSTRAINT order_changes_event_check;
                ALTER TABLE order_changes ADD CONSTRAINT order_changes_event_check
                    CHECK (event IN ('order.created', 'order.invoiced', 'order.paid', 'order.cancelled', 'order.refunded'));
                -- The status a queued change moved its order from (NULL for order.created), so
                -- counts "as of the last numbered change" can take queued changes back out
                -- whatever the transition.
                ALTER TABLE order_change_queue ADD COLUMN from_status text;
                ALTER TABLE parked_invoices ADD COLUMN due_at timestamptz;
                ALTER TABLE order_changes ADD COLUMN from_status text;
                UPDATE order_changes SET from_status = 'created' WHERE event = 'order.invoiced';
                UPDATE order_change_queue SET from_status = 'created' WHERE event = 'order.invoiced';
                """),
        PostgresMigration(
            version: 15, name: "changes numbered in order per order from here",
            sql: """
                -- Changes numbered up to here were numbered by xid alone, and an order's could be
                -- out of the order they happened in; from here each order's are in order.
                -- mercato audit reports an out-of-order history at or below this number as
                -- history, not as a discrepancy.
                CREATE TABLE order_changes_in_order_since (sequence bigint NOT NULL);
                INSERT INTO order_changes_in_order_since SELECT last FROM order_change_sequence;
                """),
        PostgresMigration(
            version: 16, name: "product replica",
            sql: """
                -- Products as catalog-service last announced them (product.*): what order lines
                -- are priced from and checked against. Newer versions replace older ones only.
                CREATE TABLE products (
                    sku text PRIMARY KEY,
                    name text NOT NULL,
                    price numeric(9,2) NOT NULL,
                    active boolean NOT NULL,
                    available integer NOT NULL,
                    version integer NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                """),
        PostgresMigration(
            version: 17, name: "order lines name their product",
            sql: """
                -- The catalog's SKU of each line (from here the name and price are the
                -- catalog's, recorded as they were when the order was placed); NULL on lines of
                -- orders placed before, which the client named and priced.
                ALTER TABLE order_items ADD COLUMN sku text;
                """),
        PostgresMigration(
            version: 18, name: "stock on the live page",
            sql: """
                -- What the live page shows of each product beside its availability: reserved
                -- and on order as catalog-service announces them (NULL until it does), and the
                -- units delivered since (stock.replenished).
                ALTER TABLE products ADD COLUMN reserved integer, ADD COLUMN on_order integer,
                    ADD COLUMN replenished integer NOT NULL DEFAULT 0;
                -- The orders stock turned away after they were accepted, counted for the live
                -- page every few seconds: from a small index, not the whole table.
                CREATE INDEX orders_out_of_stock ON orders (id) WHERE cancel_reason = 'out_of_stock';
                """),
    ]
}
