package import CatalogService
import Contracts
import Foundation
import MercatoTesting
import ServiceKit
import Testing

/// catalog-service's stock under test: its products and its reservations over one database.
package struct StockStorage: Sendable {
    /// The products.
    package var products: any ProductStore
    /// The reservations.
    package var stock: any StockStore

    /// Creates the subject.
    package init(products: any ProductStore, stock: any StockStore) {
        self.products = products
        self.stock = stock
    }
}

/// What every ``StockStore`` does — PostgreSQL's and the in-memory one alike.
package enum StockStoreContract {
    static func event(_ change: StockLedger.Event, order: UUID = UUID()) throws -> StockEvent {
        let payload = OrderCancelled(orderID: order, customerID: UUID(), reason: .requested, cancelledAt: Date())
        return StockEvent(
            event: try IncomingEvent(CloudEvent(source: "/tests", data: payload)), orderID: order, change: change)
    }

    static func product(_ storage: StockStorage, units: Int) async throws -> String {
        let sku = "SKU-\(UUID().uuidString.prefix(8))"
        _ = try await storage.products.create(
            NewProduct(sku: sku, name: "Tea", price: Money("2.00")!, stockOnHand: units), at: Date(), traceparent: nil)
        return sku
    }

    /// Every check.
    package static let checks: [ContractCheck<StockStorage>] = [
        ContractCheck("an order reserves all its lines or none, once per event") { storage in
            let tea = try await product(storage, units: 5)
            let cup = try await product(storage, units: 1)
            let fits = try event(.reserve([tea: 3, cup: 1]))
            let outcomes = try await storage.stock.apply([fits, fits])
            #expect(outcomes.map(\.state) == [.reserved], "the repeat in the batch counts once")
            #expect(try await storage.stock.apply([fits]).isEmpty, "a redelivery changes nothing")
            let short = try event(.reserve([tea: 2, cup: 1]))
            let refused = try await storage.stock.apply([short])
            #expect(refused.first?.state == .rejected)
            #expect(refused.first?.shortages == [.init(sku: cup, requested: 1, available: 0)])
            let teaNow = try #require(try await storage.products.product(sku: tea))
            #expect(teaNow.reserved == 3 && teaNow.available == 2, "the refused order took nothing")
            #expect(try await storage.stock.reservation(of: fits.orderID)?.lines == [tea: 3, cup: 1])
        },
        ContractCheck("a release gives back, a sale takes from on hand, a cancellation first reserves nothing") {
            storage in
            let tea = try await product(storage, units: 10)
            let released = try event(.reserve([tea: 4]))
            let sold = try event(.reserve([tea: 3]))
            _ = try await storage.stock.apply([released, sold])
            _ = try await storage.stock.apply([
                try event(.release, order: released.orderID), try event(.sell, order: sold.orderID),
            ])
            let early = UUID()
            _ = try await storage.stock.apply([try event(.release, order: early)])
            _ = try await storage.stock.apply([try event(.reserve([tea: 5]), order: early)])
            let now = try #require(try await storage.products.product(sku: tea))
            #expect(now.onHand == 7 && now.reserved == 0 && now.available == 7)
            #expect(try await storage.stock.reservation(of: released.orderID)?.state == .released)
            #expect(try await storage.stock.reservation(of: sold.orderID)?.state == .sold)
            #expect(try await storage.stock.reservation(of: early)?.state == .released)
        },
        ContractCheck("concurrent orders for the last units: exactly as many win as there are units") { storage in
            let tea = try await product(storage, units: 5)
            let orders = try (0..<20).map { _ in try event(.reserve([tea: 1])) }
            let outcomes = try await withThrowingTaskGroup(of: [StockLedger.Outcome].self) { group in
                for order in orders { group.addTask { try await storage.stock.apply([order]) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(outcomes.filter { $0.state == .reserved }.count == 5)
            #expect(outcomes.filter { $0.state == .rejected }.count == 15)
            let now = try #require(try await storage.products.product(sku: tea))
            #expect(now.reserved == 5 && now.available == 0)
        },
    ]
}
