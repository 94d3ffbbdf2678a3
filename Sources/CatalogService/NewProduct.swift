package import Contracts
import Foundation
package import ServiceKit

/// The body of `POST /products`.
package struct NewProduct: Decodable, Sendable, Equatable {
    /// The key a client orders by: 1–64 of A–Z, 0–9 and `-`, upper case.
    package var sku: String
    /// What the invoice line says, 1–200 characters.
    package var name: String
    /// The price of one unit: more than 0, at most 1,000,000, at most two decimals.
    package var price: Money
    /// Units on hand to start with (default 0).
    package var stockOnHand: Int
    /// At or below this availability the product is reordered (default 0: never).
    package var reorderPoint: Int
    /// How many units a reorder asks for (default 0: never).
    package var reorderQuantity: Int
    /// Whether it may be ordered (default true).
    package var active: Bool

    /// Creates a request body.
    package init(
        sku: String, name: String, price: Money, stockOnHand: Int = 0, reorderPoint: Int = 0,
        reorderQuantity: Int = 0, active: Bool = true
    ) {
        self.sku = sku
        self.name = name
        self.price = price
        self.stockOnHand = stockOnHand
        self.reorderPoint = reorderPoint
        self.reorderQuantity = reorderQuantity
        self.active = active
    }

    enum CodingKeys: String, CodingKey {
        case sku, name, price, active
        case stockOnHand = "stock_on_hand"
        case reorderPoint = "reorder_point"
        case reorderQuantity = "reorder_quantity"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sku = try container.decode(String.self, forKey: .sku)
        name = try container.decode(String.self, forKey: .name)
        price = try container.decode(Money.self, forKey: .price)
        stockOnHand = try container.decodeIfPresent(Int.self, forKey: .stockOnHand) ?? 0
        reorderPoint = try container.decodeIfPresent(Int.self, forKey: .reorderPoint) ?? 0
        reorderQuantity = try container.decodeIfPresent(Int.self, forKey: .reorderQuantity) ?? 0
        active = try container.decodeIfPresent(Bool.self, forKey: .active) ?? true
    }

    /// Most units a product's counts may hold.
    package static let maximumUnits = 1_000_000_000

    /// The same request, trimmed and checked; throws a 422 naming the first bad field.
    package func validated() throws -> NewProduct {
        NewProduct(
            sku: try FieldValidation.sku(sku, field: "sku"),
            name: try FieldValidation.text(name, field: "name", maxLength: 200),
            price: try Self.validPrice(price, field: "price"),
            stockOnHand: try Self.units(stockOnHand, field: "stock_on_hand"),
            reorderPoint: try Self.units(reorderPoint, field: "reorder_point"),
            reorderQuantity: try Self.units(reorderQuantity, field: "reorder_quantity"),
            active: active)
    }

    /// A price a line can bill: more than 0, at most 1,000,000, at most two decimals.
    package static func validPrice(_ price: Money, field: String) throws -> Money {
        guard price > .zero else { throw APIError.invalid(field, "must be greater than 0") }
        guard price <= Money(1_000_000) else { throw APIError.invalid(field, "must be at most 1000000") }
        guard price.scale <= 2 else { throw APIError.invalid(field, "must have at most two decimals") }
        return price
    }

    /// A count of units: 0 to ``maximumUnits``.
    package static func units(_ value: Int, field: String) throws -> Int {
        guard (0...maximumUnits).contains(value) else {
            throw APIError.invalid(field, "must be an integer from 0 to \(maximumUnits)")
        }
        return value
    }
}
