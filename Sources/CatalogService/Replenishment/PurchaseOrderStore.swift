package import Foundation
package import ServiceKit

/// catalog-service's purchase orders. They are opened by the stores of products and stock,
/// in the transaction that takes a product's availability to its reorder point (never two
/// open for one product); this is their life after that.
package protocol PurchaseOrderStore: Sendable {
    /// The purchase orders due at `time`: open ones to place, placed ones to ask about their
    /// deliveries; oldest first, at most `limit`.
    func due(at time: Date, limit: Int) async throws -> [PurchaseOrder]

    /// The supplier accepted `id` at `time`; its deliveries are first asked about at `next`.
    func markPlaced(_ id: UUID, at time: Date, next: Date) async throws

    /// An attempt on `id` failed with `error`: one more attempt counted, the next at `next`.
    func markFailed(_ id: UUID, error: String, next: Date, at time: Date) async throws

    /// The supplier has delivered `delivered` units of `id` in all: those not received yet go
    /// on hand (a `received` adjustment in the product's books), announced by
    /// `stock.replenished` and `product.updated`; received in full, the order closes. Asked
    /// again at `next` otherwise. Idempotent: a count not above what was received changes no
    /// stock. Returns the product as the delivery left it, `nil` if it added nothing.
    func receive(_ id: UUID, delivered: Int, next: Date, at time: Date) async throws -> Product?

    /// A page of purchase orders, oldest first.
    func purchaseOrders(page: PageRequest) async throws -> [PurchaseOrder]
}
