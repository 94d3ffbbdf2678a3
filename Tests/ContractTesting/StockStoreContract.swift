package import CatalogService
import Contracts
import Foundation
import MercatoTesting
package import ServiceKit
import Testing

/// catalog-service's stock under test: its products, reservations and purchase orders over one
/// database.
package struct StockStorage: Sendable {
    /// The products.
    package var products: any ProductStore
    /// The reservations.
    package var stock: any StockStore
    /// The purchase orders.
    package var purchaseOrders: any PurchaseOrderStore
    /// The events both have queued and not published yet, oldest first.
    package var pendingEvents: @Sendable () async throws -> [OutboxMessage]

    /// Creates the subject.
    package init(
        products: any ProductStore, stock: any StockStore, purchaseOrders: any PurchaseOrderStore,
        pendingEvents: @escaping @Sendable () async throws -> [OutboxMessage]
    ) {
        self.products = products
        self.stock = stock
        self.purchaseOrders = purchaseOrders
        self.pendingEvents = pendingEvents
    }

    /// Applies `events` now.
    @discardableResult
    func apply(_ events: [StockEvent]) async throws -> [StockLedger.Outcome] {
        try await stock.apply(events, at: Date())
    }

    /// The pending events of `type`, decoded.
    func events<Payload: EventPayload>(_ type: Payload.Type) async throws -> [Payload] {
        try await pendingEvents().filter { $0.eventType == Payload.eventType.name }.map {
            try EventCoding.makeDecoder().decode(CloudEvent<Payload>.self, from: $0.body).data
        }
    }
}

/// What every ``StockStore`` does — PostgreSQL's and the in-memory one alike.
package enum StockStoreContract {
    /// The event of `change` for `order`; a reservation comes as `order.created` would bring
    /// it, with one line per SKU.
    static func event(_ change: StockLedger.Event, order: UUID = UUID()) throws -> StockEvent {
        guard case .reserve(let wanted) = change else {
            let payload = OrderCancelled(orderID: order, customerID: UUID(), reason: .requested, cancelledAt: Date())
            return StockEvent(
                event: try IncomingEvent(CloudEvent(source: "/tests", data: payload)), orderID: order, change: change)
        }
        let lines = wanted.sorted { $0.key < $1.key }.map {
            OrderLine(sku: $0.key, productName: "Tea", quantity: $0.value, unitPrice: Money("2.00")!)
        }
        let created = OrderCreated(
            orderID: order, customerID: UUID(), items: lines, total: lines.map(\.lineTotal).reduce(.zero, +),
            createdAt: Date())
        return StockEvent(reserving: created, event: try IncomingEvent(CloudEvent(source: "/tests", data: created)))
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
            let outcomes = try await storage.apply([fits, fits])
            #expect(outcomes.map(\.state) == [.reserved], "the repeat in the batch counts once")
            #expect(try await storage.apply([fits]).isEmpty, "a redelivery changes nothing")
            let short = try event(.reserve([tea: 2, cup: 1]))
            let refused = try await storage.apply([short])
            #expect(refused.first?.state == .rejected)
            #expect(refused.first?.shortages == [.init(sku: cup, requested: 1, available: 0)])
            let teaNow = try #require(try await storage.products.product(sku: tea))
            #expect(teaNow.reserved == 3 && teaNow.available == 2, "the refused order took nothing")
            #expect(try await storage.stock.reservation(of: fits.orderID)?.lines == [tea: 3, cup: 1])
        },
        ContractCheck("each decision is announced with the order, and each product changed once per batch") {
            storage in
            let tea = try await product(storage, units: 5)
            let first = try event(.reserve([tea: 2]))
            let second = try event(.reserve([tea: 2]))
            let third = try event(.reserve([tea: 2]))
            try await storage.apply([first, second, third])
            let reserved = try await storage.events(StockReserved.self)
            #expect(reserved.map(\.orderID) == [first.orderID, second.orderID])
            #expect(reserved.first?.items == first.order?.items, "stock.reserved carries the order on")
            #expect(
                reserved.first?.customerID == first.order?.customerID && reserved.first?.total == first.order?.total)
            let rejected = try await storage.events(StockRejected.self)
            #expect(rejected.map(\.orderID) == [third.orderID])
            #expect(rejected.first?.customerID == third.order?.customerID)
            #expect(rejected.first?.shortages == [.init(sku: tea, requested: 2, available: 1)])
            let updates = try await storage.events(ProductUpdated.self).map(\.product)
            #expect(updates.map(\.sku) == [tea], "one product.updated for the whole batch")
            #expect(updates.first?.available == 1 && updates.first?.version == 2)
            #expect(try await storage.products.product(sku: tea)?.version == 2)
            try await storage.apply([try event(.release, order: first.orderID)])
            #expect(try await storage.events(ProductUpdated.self).last?.product.available == 3)
            #expect(try await storage.events(StockReserved.self).count == 2, "a release announces no reservation")
        },
        ContractCheck("an order cancelled after it was sold is returned: its units come back on hand") { storage in
            let tea = try await product(storage, units: 4)
            let order = try event(.reserve([tea: 3]))
            try await storage.apply([order])
            try await storage.apply([try event(.sell, order: order.orderID)])
            #expect(try await storage.products.product(sku: tea)?.onHand == 1)
            try await storage.apply([try event(.release, order: order.orderID)])
            try await storage.apply([try event(.sell, order: order.orderID)])
            let now = try #require(try await storage.products.product(sku: tea))
            #expect(now.onHand == 4 && now.reserved == 0)
            #expect(try await storage.stock.reservation(of: order.orderID)?.state == .returned)
        },
        ContractCheck("a release gives back, a sale takes from on hand, a cancellation first reserves nothing") {
            storage in
            let tea = try await product(storage, units: 10)
            let released = try event(.reserve([tea: 4]))
            let sold = try event(.reserve([tea: 3]))
            _ = try await storage.apply([released, sold])
            _ = try await storage.apply([
                try event(.release, order: released.orderID), try event(.sell, order: sold.orderID),
            ])
            let early = UUID()
            _ = try await storage.apply([try event(.release, order: early)])
            _ = try await storage.apply([try event(.reserve([tea: 5]), order: early)])
            let now = try #require(try await storage.products.product(sku: tea))
            #expect(now.onHand == 7 && now.reserved == 0 && now.available == 7)
            #expect(try await storage.stock.reservation(of: released.orderID)?.state == .released)
            #expect(try await storage.stock.reservation(of: sold.orderID)?.state == .sold)
            #expect(try await storage.stock.reservation(of: early)?.state == .released)
        },
        ContractCheck("an order's creation and its cancellation at once never leave its units held") { storage in
            // Two replicas' batches: one has the order's order.created, the other its
            // order.cancelled. Whichever comes first, the order ends released, holding nothing.
            let tea = try await product(storage, units: 1000)
            let orders = (0..<40).map { _ in UUID() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for order in orders {
                    let reserve = try event(.reserve([tea: 1]), order: order)
                    let release = try event(.release, order: order)
                    group.addTask { try await storage.apply([reserve]) }
                    group.addTask { try await storage.apply([release]) }
                }
                try await group.waitForAll()
            }
            var states: [StockLedger.State?] = []
            for order in orders { states.append(try await storage.stock.reservation(of: order)?.state) }
            #expect(states.allSatisfy { $0 == .released }, "\(states)")
            #expect(try await storage.products.product(sku: tea)?.reserved == 0)
        },
        ContractCheck("concurrent orders for the last units: exactly as many win as there are units") { storage in
            let tea = try await product(storage, units: 5)
            let orders = try (0..<20).map { _ in try event(.reserve([tea: 1])) }
            let outcomes = try await withThrowingTaskGroup(of: [StockLedger.Outcome].self) { group in
                for order in orders { group.addTask { try await storage.apply([order]) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(outcomes.filter { $0.state == .reserved }.count == 5)
            #expect(outcomes.filter { $0.state == .rejected }.count == 15)
            let now = try #require(try await storage.products.product(sku: tea))
            #expect(now.reserved == 5 && now.available == 0)
        },
    ]
}
