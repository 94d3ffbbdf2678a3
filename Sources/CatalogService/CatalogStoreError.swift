/// What catalog-service's storage refuses, in the domain's terms; the routes answer it.
package struct CatalogStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        package var description: String { value }

        /// A product with this SKU exists.
        package static let skuTaken = Code("skuTaken")
        /// A stock count below the units reserved.
        package static let belowReserved = Code("belowReserved")
        /// More units than a count may hold.
        package static let tooManyUnits = Code("tooManyUnits")
        /// The `Idempotency-Key` was used for another request.
        package static let idempotencyKeyReused = Code("idempotencyKeyReused")
    }

    /// What went wrong.
    package var code: Code
    /// Details for the client.
    package var message: String

    /// Creates the error.
    package init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    package var description: String { "CatalogStoreError.\(code): \(message)" }
}
