package import CatalogService
import Contracts
import Foundation
import MercatoTesting
import ServiceKit
import Testing

/// What every ``PurchaseOrderStore`` does with the stores that open purchase orders —
/// PostgreSQL's and the in-memory one alike.
package enum PurchaseOrderContract {
    /// A product of `units` that reorders 10 at or below 2.
    static func product(_ storage: StockStorage, units: Int, reorderQuantity: Int = 10) async throws -> String {
        let sku = "PO-\(UUID().uuidString.prefix(8))"
        _ = try await storage.products.create(
            NewProduct(
                sku: sku, name: "Tea", price: Money("2.00")!, stockOnHand: units, reorderPoint: 2,
                reorderQuantity: reorderQuantity), at: Date(), traceparent: nil)
        return sku
    }

    static func open(_ storage: StockStorage, sku: String) async throws -> [PurchaseOrder] {
        try await storage.purchaseOrders.purchaseOrders(page: PageRequest(limit: 100)).filter {
            $0.sku == sku && $0.state != .received
        }
    }

    /// Every check.
    package static let checks: [ContractCheck<StockStorage>] = [
        ContractCheck("falling to the reorder point opens one purchase order, never two") { storage in
            let tea = try await product(storage, units: 5)
            let quiet = try await product(storage, units: 5, reorderQuantity: 0)
            try await storage.apply([try StockStoreContract.event(.reserve([tea: 2, quiet: 4]))])
            #expect(try await open(storage, sku: tea).isEmpty, "3 available is above the reorder point")
            try await storage.apply([try StockStoreContract.event(.reserve([tea: 1]))])
            try await storage.apply([try StockStoreContract.event(.reserve([tea: 1]))])
            let orders = try await open(storage, sku: tea)
            #expect(orders.count == 1 && orders.first?.quantity == 10 && orders.first?.state == .open)
            #expect(try await storage.products.product(sku: tea)?.onOrder == 10)
            let announced = try await storage.events(ProductUpdated.self).last { $0.product.sku == tea }
            #expect(announced?.product.onOrder == 10 && announced?.product.reserved == 4, "on order, announced")
            #expect(try await open(storage, sku: quiet).isEmpty, "a product that reorders nothing buys nothing")
            // A stock count that leaves it low opens none beside the open one.
            _ = try await storage.products.adjustStock(
                sku: tea, StockAdjustment(kind: .counted, quantity: 4, reason: "count"), idempotencyKey: nil,
                at: Date(), traceparent: nil)
            #expect(try await open(storage, sku: tea).count == 1)
        },
        ContractCheck("placed, then received in parts: stock grows, announced, and the order closes") { storage in
            let tea = try await product(storage, units: 3)
            try await storage.apply([try StockStoreContract.event(.reserve([tea: 1]))])
            let time = Date()
            let order = try #require(try await open(storage, sku: tea).first)
            #expect(try await storage.purchaseOrders.due(at: time, limit: 10).contains { $0.id == order.id })
            try await storage.purchaseOrders.markFailed(order.id, error: "down", next: time + 60, at: time)
            #expect(try await !storage.purchaseOrders.due(at: time, limit: 10).contains { $0.id == order.id })
            #expect(try await open(storage, sku: tea).first?.attempts == 1)
            try await storage.purchaseOrders.markPlaced(order.id, at: time, next: time)
            #expect(try await storage.purchaseOrders.receive(order.id, delivered: 0, next: time, at: time) == nil)
            let half = try await storage.purchaseOrders.receive(order.id, delivered: 5, next: time, at: time)
            #expect(half?.onHand == 8 && half?.available == 7)
            #expect(
                try await storage.purchaseOrders.receive(order.id, delivered: 5, next: time, at: time) == nil,
                "a repeated count adds nothing")
            #expect(half?.onOrder == 5)
            let full = try await storage.purchaseOrders.receive(order.id, delivered: 10, next: time, at: time)
            #expect(full?.onHand == 13 && full?.onOrder == 0)
            #expect(try await open(storage, sku: tea).isEmpty, "received in full, it is closed")
            #expect(
                try await storage.purchaseOrders.receive(order.id, delivered: 12, next: time, at: time) == nil,
                "never more than was ordered")
            let replenished = try await storage.events(StockReplenished.self)
            #expect(replenished.map(\.quantity) == [5, 5] && replenished.last?.onHand == 13)
            #expect(try await storage.products.product(sku: tea)?.onHand == 13)
            let updates = try await storage.events(ProductUpdated.self).filter { $0.product.sku == tea }
            #expect(updates.last?.product.available == 12)
        },
    ]
}

extension Date {
    /// `self` plus `seconds`.
    static func + (date: Date, seconds: Int) -> Date { date.addingTimeInterval(Double(seconds)) }
}
