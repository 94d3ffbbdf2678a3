package import Foundation
package import ServiceKit

/// The body of `POST /products/{sku}/stock`: goods received (`received`: units added) or a
/// stock count (`counted`: units found on hand), with a reason for the books.
package struct StockAdjustment: Decodable, Sendable, Equatable {
    /// What happened.
    package enum Kind: String, Codable, Sendable {
        /// Goods received: `quantity` units are added to on hand.
        case received
        /// A stock count: on hand is set to `quantity`.
        case counted
    }

    /// What happened.
    package var kind: Kind
    /// Units received (1 or more), or units counted (0 or more).
    package var quantity: Int
    /// Why, 1–200 characters (a delivery note, "annual count").
    package var reason: String

    /// Creates an adjustment.
    package init(kind: Kind, quantity: Int, reason: String) {
        self.kind = kind
        self.quantity = quantity
        self.reason = reason
    }

    /// The same adjustment, checked; throws a 422 naming the first bad field.
    package func validated() throws -> StockAdjustment {
        let low = kind == .received ? 1 : 0
        guard (low...NewProduct.maximumUnits).contains(quantity) else {
            throw APIError.invalid("quantity", "must be an integer from \(low) to \(NewProduct.maximumUnits)")
        }
        return StockAdjustment(
            kind: kind, quantity: quantity, reason: try FieldValidation.text(reason, field: "reason", maxLength: 200))
    }

    /// The request in a canonical form, to tell a retried request from a different one under
    /// the same `Idempotency-Key`.
    package var canonical: String { "\(kind.rawValue):\(quantity):\(reason)" }

    /// `product` after the adjustment, or why it is refused: a count below what is reserved
    /// would promise units that are not there (available < 0).
    package func applied(to product: Product, at time: Date) throws -> Product {
        var next = product
        switch kind {
        case .received:
            guard product.onHand <= NewProduct.maximumUnits - quantity else {
                throw CatalogStoreError(.tooManyUnits, "\(product.sku) would hold more than \(NewProduct.maximumUnits)")
            }
            next.onHand += quantity
        case .counted:
            guard quantity >= product.reserved else {
                throw CatalogStoreError(
                    .belowReserved,
                    "\(product.sku): \(product.reserved) units are reserved; a count of \(quantity) would leave fewer")
            }
            next.onHand = quantity
        }
        next.version += 1
        next.updatedAt = time
        return next
    }
}
