import Postgres

/// catalog-service's schema (after the shared outbox and inbox, versions 1 and 2).
enum CatalogMigrations {
    static let all = [
        PostgresMigration(
            version: 10, name: "create products",
            sql: """
                -- available = on_hand - reserved is never negative: the CHECK is the last line
                -- of defence behind the reservation logic, which refuses before it gets here.
                CREATE TABLE products (
                    sku text PRIMARY KEY,
                    id uuid NOT NULL UNIQUE,
                    name text NOT NULL,
                    price numeric(9,2) NOT NULL CHECK (price > 0),
                    on_hand integer NOT NULL CHECK (on_hand >= 0),
                    reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
                    -- What open purchase orders still bring (kept with them, for product.updated).
                    on_order integer NOT NULL DEFAULT 0 CHECK (on_order >= 0),
                    reorder_point integer NOT NULL DEFAULT 0 CHECK (reorder_point >= 0),
                    reorder_quantity integer NOT NULL DEFAULT 0 CHECK (reorder_quantity >= 0),
                    active boolean NOT NULL DEFAULT true,
                    version integer NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                CREATE INDEX products_page ON products (created_at, id);
                -- Every change of stock that is not an order's: the stock a product was added
                -- with, goods received, a count; by hand once per key. With the reservations,
                -- the books mercato audit balances on hand against.
                CREATE TABLE stock_adjustments (
                    id bigserial PRIMARY KEY,
                    sku text NOT NULL REFERENCES products (sku),
                    kind text NOT NULL CHECK (kind IN ('initial', 'received', 'counted')),
                    quantity integer NOT NULL,
                    on_hand_before integer NOT NULL,
                    on_hand_after integer NOT NULL,
                    reason text NOT NULL,
                    idempotency_key text UNIQUE,
                    request text,
                    at timestamptz NOT NULL
                );
                """),
        PostgresMigration(
            version: 11, name: "create reservations",
            sql: """
                -- What each order holds of the stock (StockLedger): reserved lines until the
                -- order is paid (sold) or cancelled (released, or returned after a sale);
                -- rejected orders hold nothing. `lines` stays as reserved, for the audit.
                CREATE TABLE reservations (
                    order_id uuid PRIMARY KEY,
                    state text NOT NULL CHECK (
                        state IN ('reserved', 'rejected', 'released', 'cancelled_first', 'sold', 'returned')),
                    lines jsonb NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                """),
        PostgresMigration(
            version: 12, name: "create purchase orders",
            sql: """
                -- What catalog-service buys from the supplier: one purchase order for a product's
                -- reorder_quantity once its availability falls to its reorder point, placed
                -- (retried with backoff) and received, perhaps in parts, into stock.
                CREATE TABLE purchase_orders (
                    id uuid PRIMARY KEY,
                    sku text NOT NULL REFERENCES products (sku),
                    quantity integer NOT NULL CHECK (quantity > 0),
                    received integer NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= quantity),
                    state text NOT NULL CHECK (state IN ('open', 'placed', 'received')),
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL,
                    last_error text,
                    placed_at timestamptz,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                -- Never two open purchase orders for one product, whoever opens them.
                CREATE UNIQUE INDEX purchase_orders_one_open ON purchase_orders (sku) WHERE state <> 'received';
                CREATE INDEX purchase_orders_due ON purchase_orders (next_attempt_at) WHERE state <> 'received';
                CREATE INDEX purchase_orders_page ON purchase_orders (created_at, id);
                """),
    ]
}
