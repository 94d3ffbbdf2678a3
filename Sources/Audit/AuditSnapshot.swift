public import Foundation

/// What the audit read: each service's database in one consistent snapshot of its own, and
/// the provider's books. Read invoice-service's and customer-service's first and
/// order-service's last, so that everything the first two mention of an order was caused by
/// an order the last one shows (an invoice exists only after its order committed).
public struct AuditSnapshot: Sendable {
    /// An order as order-service has it.
    public struct Order: Sendable, Hashable {
        /// Its id.
        public var id: UUID
        /// Its customer.
        public var customerID: UUID
        /// `created`, `invoiced`, `paid` or `cancelled`.
        public var status: String
        /// When it was placed.
        public var createdAt: Date
        /// When it last changed.
        public var updatedAt: Date
        /// Why it was cancelled (`requested`, `payment_overdue`, `out_of_stock`), if it was.
        public var cancelReason: String?
        /// Whether its lines name catalog products (orders placed before the catalog do not,
        /// and reserve nothing).
        public var namesProducts: Bool
        /// The units of each product its lines ask for (empty when not read).
        public var productLines: [String: Int] = [:]

        /// Creates an order row.
        public init(
            id: UUID, customerID: UUID, status: String, createdAt: Date, updatedAt: Date? = nil,
            cancelReason: String? = nil, namesProducts: Bool = false
        ) {
            self.id = id
            self.customerID = customerID
            self.status = status
            self.createdAt = createdAt
            self.updatedAt = updatedAt ?? createdAt
            self.cancelReason = cancelReason
            self.namesProducts = namesProducts
        }
    }

    /// A product's stock as catalog-service has it, with its books.
    public struct Product: Sendable, Hashable {
        /// Its SKU.
        public var sku: String
        /// Units in the store room.
        public var onHand: Int
        /// Units promised to orders.
        public var reserved: Int
        /// The net of every adjustment of its stock: the initial stock, goods received, counts.
        public var adjusted: Int
        /// Units its open purchase orders still bring, as the product says.
        public var onOrder: Int
        /// Units its open purchase orders still bring, by the purchase orders.
        public var stillOrdered: Int

        /// Creates a product row.
        public init(sku: String, onHand: Int, reserved: Int, adjusted: Int, onOrder: Int = 0, stillOrdered: Int = 0) {
            self.sku = sku
            self.onHand = onHand
            self.reserved = reserved
            self.adjusted = adjusted
            self.onOrder = onOrder
            self.stillOrdered = stillOrdered
        }
    }

    /// What an order holds of the stock, as catalog-service has it.
    public struct Reservation: Sendable, Hashable {
        /// `reserved`, `rejected`, `released`, `cancelled_first`, `sold` or `returned`.
        public var state: String
        /// The units of each SKU it reserved (kept after a release or sale).
        public var lines: [String: Int]

        /// Creates a reservation row.
        public init(state: String, lines: [String: Int]) {
            self.state = state
            self.lines = lines
        }
    }

    /// One numbered change of an order, as its history shows it.
    public struct Change: Sendable, Hashable {
        /// Its number among all changes.
        public var sequence: Int64
        /// `order.created`, `order.invoiced`, …
        public var event: String
        /// The status the change moved the order from (nil for `order.created`).
        public var fromStatus: String?

        /// Creates a change row.
        public init(sequence: Int64, event: String, fromStatus: String?) {
            self.sequence = sequence
            self.event = event
            self.fromStatus = fromStatus
        }

        /// The status the order has after this change.
        public var status: String {
            switch event {
            case "order.created": "created"
            case "order.invoiced": "invoiced"
            case "order.paid": "paid"
            default: "cancelled"
            }
        }
    }

    /// An invoice as invoice-service has it.
    public struct Invoice: Sendable, Hashable {
        /// Its id.
        public var id: UUID
        /// `INV-<year>-<6 digits>`.
        public var number: String
        /// The order it bills.
        public var orderID: UUID
        /// `issued`, `paid`, `overdue` or `void`.
        public var status: String
        /// What it comes to.
        public var total: Decimal

        /// Creates an invoice row.
        public init(id: UUID, number: String, orderID: UUID, status: String, total: Decimal) {
            self.id = id
            self.number = number
            self.orderID = orderID
            self.status = status
            self.total = total
        }
    }

    /// A payment as invoice-service has it.
    public struct Payment: Sendable, Hashable {
        /// Its id, lowercased, which is also its key at the provider.
        public var key: String
        /// The invoice paid.
        public var invoiceID: UUID
        /// `pending`, `captured`, `declined`, `failed`, `refunded` or `cancelled`.
        public var status: String
        /// How much.
        public var amount: Decimal
        /// Why a captured payment is owed back, if it is.
        public var refundDue: String?
        /// When it last changed.
        public var updatedAt: Date

        /// Creates a payment row.
        public init(
            key: String, invoiceID: UUID, status: String, amount: Decimal, refundDue: String?,
            updatedAt: Date = .distantPast
        ) {
            self.key = key
            self.invoiceID = invoiceID
            self.status = status
            self.amount = amount
            self.refundDue = refundDue
            self.updatedAt = updatedAt
        }
    }

    /// A charge in the provider's books.
    public struct Charge: Sendable, Hashable {
        /// The idempotency key it was made under (a payment's id).
        public var key: String
        /// `captured`, `declined`, `refunded` or `cancelled`.
        public var status: String
        /// How much.
        public var amount: Decimal

        /// Creates a charge row.
        public init(key: String, status: String, amount: Decimal) {
            self.key = key
            self.status = status
            self.amount = amount
        }
    }

    /// orders.
    public var orders: [Order] = []
    /// catalog-service's products; `nil` when the catalog is not audited.
    public var products: [Product]?
    /// catalog-service's reservations, by order.
    public var reservations: [UUID: Reservation] = [:]
    /// Each order's numbered changes, in sequence order.
    public var changes: [UUID: [Change]] = [:]
    /// Orders with changes not numbered yet.
    public var ordersWithQueuedChanges: Set<UUID> = []
    /// The last change numbered before order-service numbered each order's changes in order
    /// (its migration 15): an out-of-order history up to it is history, not a discrepancy.
    public var changesInOrderSince: Int64 = 0
    /// invoices.
    public var invoices: [Invoice] = []
    /// payments.
    public var payments: [Payment] = []
    /// The provider's books.
    public var charges: [Charge] = []
    /// customer-service's tally: each order it counted, and in which state.
    public var tallies: [UUID: (customerID: UUID, state: String)] = [:]
    /// Each customer's `orders_count`.
    public var ordersCounts: [UUID: Int] = [:]
    /// Unpublished outbox rows per service, and the subjects (orders, invoices) they are about.
    public var unsentOutbox: [String: Int] = [:]
    /// The subjects of unpublished outbox rows: entities whose news is still on its way.
    public var unsentSubjects: Set<UUID> = []
    /// When the first snapshot was taken: orders placed or changed after it may not be
    /// anywhere else yet (the other snapshots are older), so they wait for the next audit.
    public var takenAt = Date()

    /// Creates an empty snapshot.
    public init() {}
}
