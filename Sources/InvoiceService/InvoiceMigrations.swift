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
        PostgresMigration(
            version: 12, name: "invoice lifecycle and payments",
            sql: """
                -- InvoiceLifecycle: issued -> paid, issued/paid -> void. Existing invoices are issued.
                ALTER TABLE invoices
                    ADD COLUMN status text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'paid', 'void')),
                    ADD COLUMN due_at timestamptz,
                    ADD COLUMN paid_at timestamptz,
                    ADD COLUMN voided_at timestamptz,
                    ADD COLUMN void_reason text;
                -- Orders cancelled before or after their invoice: an order listed here is never
                -- invoiced, whatever order order.created and order.cancelled arrive in.
                CREATE TABLE cancelled_orders (
                    order_id uuid PRIMARY KEY,
                    reason text NOT NULL,
                    cancelled_at timestamptz NOT NULL
                );
                -- PaymentLifecycle. A payment row is written before the provider is called,
                -- so a crash mid-call leaves a pending payment the reconciler resolves.
                CREATE TABLE payments (
                    id uuid PRIMARY KEY,
                    invoice_id uuid NOT NULL REFERENCES invoices (id),
                    idempotency_key text NOT NULL,
                    request text NOT NULL,
                    amount numeric(16, 2) NOT NULL CHECK (amount > 0),
                    method text NOT NULL,
                    token text,
                    status text NOT NULL CHECK (status IN ('pending', 'captured', 'declined', 'failed', 'refunded')),
                    provider_reference text,
                    failure_reason text,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    lease_until timestamptz,
                    UNIQUE (invoice_id, idempotency_key)
                );
                -- One payment at a time per invoice, and never two captures: a second
                -- payment while one is pending or captured is refused by the database itself.
                CREATE UNIQUE INDEX payments_one_live ON payments (invoice_id) WHERE status IN ('pending', 'captured');
                CREATE INDEX payments_pending ON payments (updated_at) WHERE status = 'pending';
                CREATE INDEX payments_captured ON payments (invoice_id) WHERE status = 'captured';
                -- The simulated payment provider's own books (SimulatedPaymentGateway): written
                -- in transactions of their own, never the invoice's, like a real provider's.
                CREATE TABLE simulated_provider_charges (
                    key text PRIMARY KEY,
                    reference text NOT NULL UNIQUE,
                    status text NOT NULL CHECK (status IN ('captured', 'declined', 'refunded')),
                    amount numeric(16, 2) NOT NULL,
                    method text,
                    decline_reason text,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    refunded_at timestamptz
                );
                """),
        PostgresMigration(
            version: 13, name: "money integrity: cancelled payments, refunds due, overdue invoices",
            sql: """
                -- A payment pending too long is settled by cancelling its key at the provider:
                -- 'cancelled' means nothing was taken and nothing ever will be under that key.
                ALTER TABLE payments DROP CONSTRAINT payments_status_check;
                ALTER TABLE payments ADD CONSTRAINT payments_status_check
                    CHECK (status IN ('pending', 'captured', 'declined', 'failed', 'refunded', 'cancelled'));
                ALTER TABLE simulated_provider_charges DROP CONSTRAINT simulated_provider_charges_status_check;
                ALTER TABLE simulated_provider_charges ADD CONSTRAINT simulated_provider_charges_status_check
                    CHECK (status IN ('captured', 'declined', 'refunded', 'cancelled'));
                -- Why a captured payment goes back (its invoice void or overdue, or paid by
                -- another payment); NULL while it is kept. The reconciler refunds these.
                ALTER TABLE payments ADD COLUMN refund_due text
                    CHECK (refund_due IN ('invoice_void', 'invoice_paid_by_another_payment', 'invoice_overdue'));
                UPDATE payments AS p SET refund_due = 'invoice_void' FROM invoices AS i
                WHERE i.id = p.invoice_id AND i.status = 'void' AND p.status = 'captured';
                -- Never two captures kept for one invoice; a second one is owed back instead of
                -- refused (a capture is the provider's fact, to be recorded, not a request).
                -- One payment in flight at a time is checked under the invoice's lock.
                DROP INDEX payments_one_live;
                CREATE UNIQUE INDEX payments_one_kept_capture ON payments (invoice_id) WHERE status = 'captured' AND refund_due IS NULL;
                DROP INDEX payments_captured;
                CREATE INDEX payments_refunds_due ON payments (updated_at) WHERE status = 'captured' AND refund_due IS NOT NULL;
                CREATE INDEX payments_in_flight ON payments (invoice_id) WHERE status = 'pending';
                -- invoice-service decides lateness: an invoice unpaid at its due date with no
                -- payment in flight is closed as overdue (invoice.overdue); its order's
                -- cancellation then voids it.
                ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
                ALTER TABLE invoices ADD CONSTRAINT invoices_status_check CHECK (status IN ('issued', 'paid', 'overdue', 'void'));
                ALTER TABLE invoices ADD COLUMN overdue_at timestamptz;
                CREATE INDEX invoices_due ON invoices (due_at) WHERE status = 'issued';
                """),
        PostgresMigration(
            version: 14, name: "payment attempts",
            sql: """
                -- How many times a payment was sent to the provider: a `failed` answer ("nothing
                -- charged") belongs to one attempt, and is not recorded once a later attempt,
                -- which may have charged, was sent under the same key.
                ALTER TABLE payments ADD COLUMN attempt integer NOT NULL DEFAULT 1;
                """),
    ]
}
