import Foundation
import ServiceKit

/// A purchase order as `GET /purchase-orders` shows it.
struct PurchaseOrderResponse: Encodable {
    /// Lower case, as every id the API shows.
    let id: String
    let sku: String
    let quantity: Int
    let received: Int
    let state: String
    let attempts: Int
    let lastError: String?
    let nextAttemptAt: Date?
    let placedAt: Date?
    let createdAt: Date
    let updatedAt: Date
    /// Where the next page starts after this one (not shown: the page's `next` carries it).
    let cursor: PageCursor

    init(_ order: PurchaseOrder) {
        id = order.id.uuidString.lowercased()
        sku = order.sku
        quantity = order.quantity
        received = order.received
        state = order.state.rawValue
        attempts = order.attempts
        lastError = order.lastError
        nextAttemptAt = order.state == .received ? nil : order.nextAttemptAt
        placedAt = order.placedAt
        createdAt = order.createdAt
        updatedAt = order.updatedAt
        cursor = PageCursor(time: order.createdAt, id: order.id)
    }

    enum CodingKeys: String, CodingKey {
        case id, sku, quantity, received, state, attempts
        case lastError = "last_error"
        case nextAttemptAt = "next_attempt_at"
        case placedAt = "placed_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
