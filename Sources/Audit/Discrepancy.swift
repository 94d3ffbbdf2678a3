/// One way the books do not balance, with the ids an operator needs to look it up.
public struct Discrepancy: Sendable, Hashable, CustomStringConvertible {
    /// What kind of discrepancy, and which of the audit's questions it answers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The name printed, e.g. `capture_without_payment`.
        public let name: String
        /// Whether it is about an order lost, doubled, or inconsistent among the services.
        public let kind: Kind
        /// Whether news still on its way could mend it (a count not made yet), as opposed to
        /// a fact no later event changes (a hole in the numbers, a capture no payment has).
        public let mayStillSettle: Bool

        private init(_ name: String, _ kind: Kind, settles: Bool = false) {
            self.name = name
            self.kind = kind
            self.mayStillSettle = settles
        }

        public var description: String { name }

        /// The three ways an order can go wrong, as the fault-injection report counts them.
        public enum Kind: String, Sendable, Hashable {
            /// Accepted and then missing somewhere it must be.
            case lost
            /// Counted, invoiced or numbered more than once.
            case doubled
            /// The services, or the money, disagree.
            case inconsistent
            /// More stock promised or sold than there was, or stock unaccounted for.
            case oversold
        }

        /// An order a client saw accepted is not stored.
        public static let orderMissing = Code("order_missing", .lost)
        /// An order has no invoice (and was not cancelled before it was invoiced).
        public static let notInvoiced = Code("not_invoiced", .lost, settles: true)
        /// An order has more than one invoice.
        public static let invoicedTwice = Code("invoiced_twice", .doubled)
        /// An invoice bills an order order-service does not have.
        public static let invoiceOfNoOrder = Code("invoice_of_no_order", .doubled)
        /// Invoice numbers of a year have a hole.
        public static let numberGap = Code("invoice_number_gap", .lost)
        /// An invoice number is used twice.
        public static let numberReused = Code("invoice_number_reused", .doubled)
        /// customer-service has not counted an order, or counted it in the wrong state.
        public static let notCounted = Code("not_counted", .lost, settles: true)
        /// A customer's `orders_count` is more than its orders not cancelled.
        public static let overcounted = Code("overcounted", .doubled, settles: true)
        /// A customer's `orders_count` is less than its orders not cancelled.
        public static let undercounted = Code("undercounted", .lost, settles: true)
        /// order-service and invoice-service disagree on where an order is.
        public static let statusMismatch = Code("status_mismatch", .inconsistent, settles: true)
        /// Money captured minus refunded at the provider is not what the invoice says.
        public static let moneyMismatch = Code("money_mismatch", .inconsistent, settles: true)
        /// The provider captured money that no captured payment accounts for.
        public static let captureWithoutPayment = Code("capture_without_payment", .inconsistent)
        /// A payment says captured, and the provider has no such capture.
        public static let paymentWithoutCapture = Code("payment_without_capture", .inconsistent)
        /// An order's changes are numbered out of the order they happened in.
        public static let changesOutOfOrder = Code("changes_out_of_order", .inconsistent)
        /// A product has more units reserved than on hand, or fewer than none.
        public static let oversold = Code("oversold", .oversold)
        /// A product's stock is not what its books say: on hand is not its adjustments less
        /// what was sold, or reserved is not what its orders hold.
        public static let stockMismatch = Code("stock_mismatch", .oversold)
        /// An order and its reservation disagree (reserved for a cancelled order, sold for one
        /// not paid, rejected for one not cancelled, or none for an order of products).
        public static let reservationMismatch = Code("reservation_mismatch", .inconsistent, settles: true)
        /// catalog-service holds a reservation for an order order-service does not have.
        public static let reservationOfNoOrder = Code("reservation_of_no_order", .doubled)
    }

    /// What kind.
    public var code: Code
    /// The ids involved (`order`, `invoice`, `payment`, `customer`, `key`, …) and their values.
    public var ids: [(name: String, value: String)]
    /// What is wrong, in words.
    public var message: String

    /// Creates a discrepancy.
    public init(_ code: Code, ids: [(name: String, value: String)], _ message: String) {
        self.code = code
        self.ids = ids
        self.message = message
    }

    /// What it is about, without its figures: its kind and ids.
    public var identity: String {
        ([code.name] + ids.map { "\($0.name)=\($0.value)" }).joined(separator: " ")
    }

    public var description: String {
        "\(code.name) \(ids.map { "\($0.name)=\($0.value)" }.joined(separator: " ")): \(message)"
    }

    public static func == (lhs: Discrepancy, rhs: Discrepancy) -> Bool {
        lhs.description == rhs.description
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
