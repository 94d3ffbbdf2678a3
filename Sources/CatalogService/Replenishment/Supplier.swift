package import Foundation

/// The external supplier catalog-service buys stock from, as `PaymentGateway` is the payment
/// provider: placing a purchase order is idempotent by its id (placing it again changes
/// nothing), and its deliveries arrive over time, possibly in parts.
package protocol Supplier: Sendable {
    /// Places `order` with the supplier; throws if it was not accepted (the caller retries
    /// with backoff under the same id).
    func place(_ order: PurchaseOrder) async throws

    /// Units of `order` delivered so far (never more than it asked for).
    func delivered(_ order: PurchaseOrder) async throws -> Int
}

/// The supplier refused or failed a call.
package struct SupplierError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    package var message: String

    /// Creates the error.
    package init(_ message: String) { self.message = message }

    package var description: String { message }
}
