import Postgres

/// invoice-service's schema (after the shared outbox and inbox, versions 1 and 2).
enum InvoiceMigrations {
    static let all = [
        PostgresMigration(
            version: 10, name: "create invoices",
            sql: """
                CREATE TABLE invoices (
                    id uuid PRIMARY KEY,
                    number text NOT NULL UNIQUE,
                    order_id uuid NOT NULL UNIQUE,
                    customer_id uuid NOT NULL,
                    subtotal numeric(16, 2) NOT NULL,
                    tax_rate numeric(6, 4) NOT NULL,
                    tax numeric(16, 2) NOT NULL,
                    total numeric(16, 2) NOT NULL,
                    issued_at timestamptz NOT NULL
                );
                CREATE INDEX invoices_page ON invoices (issued_at, id);
                CREATE TABLE invoice_lines (
                    invoice_id uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
                    position integer NOT NULL,
                    product_name text NOT NULL,
                    quantity integer NOT NULL,
                    unit_price numeric(14, 2) NOT NULL,
                    line_total numeric(16, 2) NOT NULL,
                    PRIMARY KEY (invoice_id, position)
                );
                -- One row per year; its row lock serializes numbering, and a rolled-back
                -- transaction rolls its numbers back too, so numbers have no gaps.
                CREATE TABLE invoice_counters (
                    year integer PRIMARY KEY,
                    last_number integer NOT NULL
                );
                """),
        PostgresMigration(
            version: 11, name: "index invoices by customer",
            // A customer's own list (GET /invoices with a customer's token) pages by customer.
            sql: "CREATE INDEX invoices_customer_page ON invoices (customer_id, issued_at, id);"),
    ]
}
