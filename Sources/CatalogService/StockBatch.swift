package import Foundation

/// One batch of stock events applied to what the orders hold and the products they touch: the
/// part of ``StockStore/apply(_:at:)`` both stores share, run under their locks. Pure.
package struct StockBatch: Sendable {
    /// Where an order's reservation is and the lines it reserved.
    package typealias Holding = (state: StockLedger.State, lines: [String: Int])

    /// Each order's reservation, as the batch leaves it.
    package private(set) var held: [UUID: Holding]
    /// The products involved, as the batch leaves them.
    package private(set) var products: [String: Product]
    /// Each event with what it did, in order.
    package private(set) var applied: [(StockEvent, StockLedger.Outcome)] = []
    /// The orders whose reservation changed.
    package private(set) var changedOrders: Set<UUID> = []
    private var touched: Set<String> = []

    /// A batch over the reservations and products as they are.
    package init(held: [UUID: Holding], products: [String: Product]) {
        self.held = held
        self.products = products
    }

    /// Applies `entry` after the events before it.
    package mutating func apply(_ entry: StockEvent) {
        let current = held[entry.orderID]
        let outcome = StockLedger.apply(
            entry.change, to: current?.state, holding: current?.lines ?? [:], products: products)
        applied.append((entry, outcome))
        guard outcome.changed, let state = outcome.state else { return }
        var lines = current?.lines ?? [:]
        if state == .reserved, case .reserve(let wanted) = entry.change { lines = wanted }
        held[entry.orderID] = (state, lines)
        changedOrders.insert(entry.orderID)
        for (sku, delta) in outcome.reservedDelta where delta != 0 {
            products[sku]?.reserved += delta
            touched.insert(sku)
        }
        for (sku, delta) in outcome.onHandDelta where delta != 0 {
            products[sku]?.onHand += delta
            touched.insert(sku)
        }
    }

    /// The outcomes, in order.
    package var outcomes: [StockLedger.Outcome] { applied.map(\.1) }

    /// The products whose stock changed, one version on and updated at `time`, by SKU.
    package func changedProducts(at time: Date) -> [Product] {
        touched.sorted().compactMap { sku in
            guard var product = products[sku] else { return nil }
            product.version += 1
            product.updatedAt = time
            return product
        }
    }
}
