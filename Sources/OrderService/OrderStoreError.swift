/// What order-service's storage refuses or cannot read, in the domain's terms; the routes
/// answer it over HTTP.
public struct OrderStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { value }

        /// The `Idempotency-Key` was used before for a different request.
        public static let idempotencyKeyReused = Code("idempotencyKeyReused")
        /// An event names an order this database does not hold.
        public static let unknownOrder = Code("unknownOrder")
        /// A stored order has a status this version of order-service does not know (a newer
        /// replica wrote it): refused, never read as another status.
        public static let unknownStatus = Code("unknownStatus")
        /// News that needs the order cancelled (the refund of a cancelled order's payment)
        /// arrived before its cancellation (a redelivery reordered them): retried.
        public static let notCancelledYet = Code("notCancelledYet")
    }

    /// What went wrong.
    public var code: Code
    /// Details for logs.
    public var message: String

    /// Creates the error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "OrderStoreError.\(code): \(message)" }
}
