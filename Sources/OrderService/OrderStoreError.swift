/// What order-service's storage refuses or cannot read, in the domain's terms; the routes
/// answer it over HTTP.
package struct OrderStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        package var description: String { value }

        /// The `Idempotency-Key` was used before for a different request.
        package static let idempotencyKeyReused = Code("idempotencyKeyReused")
        /// An event names an order this database does not hold.
        package static let unknownOrder = Code("unknownOrder")
        /// A stored order has a status this version of order-service does not know (a newer
        /// replica wrote it): refused, never read as another status.
        package static let unknownStatus = Code("unknownStatus")
        /// News that needs the order cancelled (the refund of a cancelled order's payment)
        /// arrived before its cancellation (a redelivery reordered them): retried.
        package static let notCancelledYet = Code("notCancelledYet")
    }

    /// What went wrong.
    package var code: Code
    /// Details for logs.
    package var message: String

    /// Creates the error.
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "OrderStoreError.\(code): \(message)" }
}
