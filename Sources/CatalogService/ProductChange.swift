package import Contracts
package import Foundation
package import ServiceKit

/// The body of `PATCH /products/{sku}`: the fields to change, each optional.
package struct ProductChange: Decodable, Sendable, Equatable {
    /// A new name.
    package var name: String?
    /// A new price (orders placed before keep theirs).
    package var price: Money?
    /// A new reorder point.
    package var reorderPoint: Int?
    /// A new reorder quantity.
    package var reorderQuantity: Int?
    /// Whether it may be ordered from now on.
    package var active: Bool?

    /// Creates a change.
    package init(
        name: String? = nil, price: Money? = nil, reorderPoint: Int? = nil, reorderQuantity: Int? = nil,
        active: Bool? = nil
    ) {
        self.name = name
        self.price = price
        self.reorderPoint = reorderPoint
        self.reorderQuantity = reorderQuantity
        self.active = active
    }

    enum CodingKeys: String, CodingKey {
        case name, price, active
        case reorderPoint = "reorder_point"
        case reorderQuantity = "reorder_quantity"
    }

    /// The same change, checked; throws a 422 naming the first bad field (an empty change too).
    package func validated() throws -> ProductChange {
        guard name != nil || price != nil || reorderPoint != nil || reorderQuantity != nil || active != nil else {
            throw APIError.invalid(
                "body", "must change at least one of name, price, reorder_point, reorder_quantity, active")
        }
        return ProductChange(
            name: try name.map { try FieldValidation.text($0, field: "name", maxLength: 200) },
            price: try price.map { try NewProduct.validPrice($0, field: "price") },
            reorderPoint: try reorderPoint.map { try NewProduct.units($0, field: "reorder_point") },
            reorderQuantity: try reorderQuantity.map { try NewProduct.units($0, field: "reorder_quantity") },
            active: active)
    }

    /// `product` with the change applied; whether anything changed.
    package func applied(to product: Product, at time: Date) -> (Product, changed: Bool) {
        var next = product
        if let name { next.name = name }
        if let price { next.price = price }
        if let reorderPoint { next.reorderPoint = reorderPoint }
        if let reorderQuantity { next.reorderQuantity = reorderQuantity }
        if let active { next.active = active }
        guard next != product else { return (product, false) }
        next.version += 1
        next.updatedAt = time
        return (next, true)
    }
}
