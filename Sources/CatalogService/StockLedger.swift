package import Contracts
package import Foundation

/// What stock does for one order: the state machine that makes every order reserve its lines
/// all or none, once, and give them back or sell them once, whatever order its events arrive
/// in and however often they are delivered. Pure: both stores apply it, under their locks
/// (PostgreSQL: the products' rows, locked in SKU order; memory: the actor).
package enum StockLedger {
    /// Where one order's reservation is.
    package enum State: String, Sendable, CaseIterable {
        /// Every line reserved.
        case reserved
        /// Refused whole: some line was short (nothing reserved).
        case rejected
        /// Given back (the order was cancelled after its lines were reserved).
        case released
        /// The order was cancelled before it was seen: a reservation arriving later reserves
        /// nothing.
        case cancelledFirst = "cancelled_first"
        /// Paid: the reserved units left the store room (on hand and reserved both went down).
        case sold
        /// Cancelled after it was sold (a payment that raced the cancellation, refunded): the
        /// units came back on hand.
        case returned
    }

    /// What happens to an order.
    package enum Event: Sendable, Hashable {
        /// `order.created`: reserve these lines (quantities by SKU).
        case reserve([String: Int])
        /// `order.cancelled`: give back what it holds.
        case release
        /// The order is paid: what it holds is sold.
        case sell
    }

    /// A line that could not be reserved: what was asked and what was available (as
    /// `stock.rejected` names it).
    package typealias Shortage = StockRejected.Shortage

    /// What applying an event did.
    package struct Outcome: Sendable, Hashable {
        /// The order's state afterwards (`nil`: still none, nothing happened).
        package var state: State?
        /// Whether the state changed (a repeat changes nothing).
        package var changed: Bool
        /// Changes to each product's reserved units.
        package var reservedDelta: [String: Int] = [:]
        /// Changes to each product's units on hand.
        package var onHandDelta: [String: Int] = [:]
        /// Why a reservation was refused.
        package var shortages: [Shortage] = []
    }

    /// Applies `event` to an order in `state` (`nil`: not seen yet) that holds `lines` (the
    /// quantities it reserved, if any), against `products` (the current stock of every SKU
    /// involved; a missing or inactive one is short).
    package static func apply(
        _ event: Event, to state: State?, holding lines: [String: Int], products: [String: Product]
    ) -> Outcome {
        switch (state, event) {
        case (nil, .reserve(let wanted)):
            let shortages = wanted.sorted { $0.key < $1.key }.compactMap { sku, quantity -> Shortage? in
                guard let product = products[sku], product.active else {
                    return Shortage(sku: sku, requested: quantity, available: 0)
                }
                return product.available >= quantity
                    ? nil : Shortage(sku: sku, requested: quantity, available: max(0, product.available))
            }
            guard shortages.isEmpty else { return Outcome(state: .rejected, changed: true, shortages: shortages) }
            return Outcome(state: .reserved, changed: true, reservedDelta: wanted)
        case (nil, .release):
            return Outcome(state: .cancelledFirst, changed: true)
        case (.cancelledFirst, .reserve):
            return Outcome(state: .released, changed: true)
        case (.reserved, .release):
            return Outcome(state: .released, changed: true, reservedDelta: lines.mapValues { -$0 })
        case (.reserved, .sell):
            return Outcome(
                state: .sold, changed: true, reservedDelta: lines.mapValues { -$0 },
                onHandDelta: lines.mapValues { -$0 })
        case (.sold, .release):
            // order-service cancelled it before it heard of the payment, which invoice-service
            // then refunds: order-service's cancellation is the truth, and the goods are back.
            return Outcome(state: .returned, changed: true, onHandDelta: lines)
        default:
            // A repeat, or news that changes nothing: a rejected, released or returned order
            // holds nothing; a payment for one that is not reserved sells nothing (an order
            // placed before the catalog, or one cancelled meanwhile, whose payment is refunded).
            return Outcome(state: state, changed: false)
        }
    }

    /// The lines of an order as quantities by SKU (a SKU on several lines is summed).
    package static func quantities(_ lines: [(sku: String, quantity: Int)]) -> [String: Int] {
        lines.reduce(into: [:]) { $0[$1.sku, default: 0] += $1.quantity }
    }
}
