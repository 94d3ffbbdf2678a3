import Contracts
import Foundation
import ServiceKit

/// A product as the API shows it.
struct ProductResponse: Encodable {
    let sku: String
    let name: String
    let price: Money
    let stockOnHand: Int
    let reserved: Int
    let available: Int
    let onOrder: Int
    let reorderPoint: Int
    let reorderQuantity: Int
    let active: Bool
    let version: Int
    let createdAt: Date
    let updatedAt: Date
    /// Where the next page starts after this product (not shown: the page's `next` carries it).
    let cursor: PageCursor

    init(_ product: Product) {
        cursor = PageCursor(time: product.createdAt, id: product.id)
        sku = product.sku
        name = product.name
        price = product.price
        stockOnHand = product.onHand
        reserved = product.reserved
        available = product.available
        onOrder = product.onOrder
        reorderPoint = product.reorderPoint
        reorderQuantity = product.reorderQuantity
        active = product.active
        version = product.version
        createdAt = product.createdAt
        updatedAt = product.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case sku, name, price, reserved, available, active, version
        case stockOnHand = "stock_on_hand"
        case onOrder = "on_order"
        case reorderPoint = "reorder_point"
        case reorderQuantity = "reorder_quantity"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
