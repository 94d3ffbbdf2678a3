import Contracts
import Foundation
import Testing

@testable import CatalogService

/// The reservation state machine: all or nothing, once per order, whatever order the events
/// come in, and the stock invariant (available ≥ 0, reserved = what reserved orders hold)
/// after any sequence of them.
@Suite(.timeLimit(.minutes(1)))
struct StockLedgerTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func product(_ sku: String, onHand: Int, reserved: Int = 0, active: Bool = true) -> Product {
        Product(
            id: UUID(), sku: sku, name: sku, price: Money("2.50")!, onHand: onHand, reserved: reserved, reorderPoint: 0,
            reorderQuantity: 10, active: active, createdAt: now, updatedAt: now)
    }

    @Test func anOrderIsReservedWholeOrRefusedWholeNamingEveryShortLine() {
        let products = ["TEA": Self.product("TEA", onHand: 5, reserved: 2), "CUP": Self.product("CUP", onHand: 1)]
        let fits = StockLedger.apply(.reserve(["TEA": 3, "CUP": 1]), to: nil, holding: [:], products: products)
        #expect(fits.state == .reserved && fits.reservedDelta == ["TEA": 3, "CUP": 1] && fits.shortages.isEmpty)

        let short = StockLedger.apply(
            .reserve(["TEA": 4, "CUP": 1, "GONE": 1]), to: nil, holding: [:], products: products)
        #expect(short.state == .rejected && short.reservedDelta.isEmpty)
        #expect(
            short.shortages == [
                .init(sku: "GONE", requested: 1, available: 0), .init(sku: "TEA", requested: 4, available: 3),
            ])
    }

    @Test func anInactiveProductIsShortOfEverything() {
        let products = ["TEA": Self.product("TEA", onHand: 50, active: false)]
        let outcome = StockLedger.apply(.reserve(["TEA": 1]), to: nil, holding: [:], products: products)
        #expect(outcome.state == .rejected && outcome.shortages == [.init(sku: "TEA", requested: 1, available: 0)])
    }

    @Test func releaseAndSaleGiveBackOrTakeOutWhatTheOrderHoldsOnce() {
        let held = ["TEA": 2]
        let released = StockLedger.apply(.release, to: .reserved, holding: held, products: [:])
        #expect(released.state == .released && released.reservedDelta == ["TEA": -2] && released.onHandDelta.isEmpty)
        let sold = StockLedger.apply(.sell, to: .reserved, holding: held, products: [:])
        #expect(sold.state == .sold && sold.reservedDelta == ["TEA": -2] && sold.onHandDelta == ["TEA": -2])
        for (state, event) in [
            (StockLedger.State.released, StockLedger.Event.release), (.sold, .sell), (.rejected, .release),
            (.released, .sell), (.reserved, .reserve(["TEA": 1])), (.returned, .release), (.returned, .sell),
        ] {
            let repeat_ = StockLedger.apply(event, to: state, holding: held, products: [:])
            #expect(!repeat_.changed && repeat_.state == state && repeat_.reservedDelta.isEmpty, "\(state) \(event)")
        }
        // Cancelled after its payment was captured (and refunded): the goods come back.
        let returned = StockLedger.apply(.release, to: .sold, holding: held, products: [:])
        #expect(returned.state == .returned && returned.onHandDelta == ["TEA": 2] && returned.reservedDelta.isEmpty)
    }

    @Test func aCancellationBeforeItsOrderMeansTheOrderReservesNothing() {
        let first = StockLedger.apply(.release, to: nil, holding: [:], products: [:])
        #expect(first.state == .cancelledFirst)
        let late = StockLedger.apply(
            .reserve(["TEA": 1]), to: .cancelledFirst, holding: [:], products: ["TEA": Self.product("TEA", onHand: 9)])
        #expect(late.state == .released && late.reservedDelta.isEmpty)
    }

    /// Many orders competing for few units, their events duplicated and shuffled: after every
    /// step, available ≥ 0, reserved is what the reserved orders hold, on hand went down by
    /// what was sold, and no order holds stock twice.
    @Test(arguments: 0..<20)
    func theInvariantHoldsWhateverTheOrderOfTheEvents(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let initial = 7
        var products = ["TEA": Self.product("TEA", onHand: initial), "CUP": Self.product("CUP", onHand: 3)]
        var states: [Int: StockLedger.State] = [:]
        var holdings: [Int: [String: Int]] = [:]
        var sold = ["TEA": 0, "CUP": 0]
        var events: [(order: Int, event: StockLedger.Event)] = []
        for order in 0..<12 {
            let lines = ["TEA": Int.random(in: 1...3, using: &random), "CUP": Int.random(in: 0...1, using: &random)]
                .filter { $0.value > 0 }
            events.append((order, .reserve(lines)))
            if Bool.random(using: &random) { events.append((order, .release)) }
            if Bool.random(using: &random) { events.append((order, .sell)) }
        }
        events = (events + events.filter { _ in Bool.random(using: &random) }).shuffled(using: &random)
        for (order, event) in events {
            let outcome = StockLedger.apply(
                event, to: states[order], holding: holdings[order] ?? [:], products: products)
            guard outcome.changed else { continue }
            states[order] = outcome.state
            if outcome.state == .reserved, case .reserve(let lines) = event { holdings[order] = lines }
            if outcome.state != .reserved { holdings[order] = nil }
            for (sku, delta) in outcome.reservedDelta { products[sku]!.reserved += delta }
            for (sku, delta) in outcome.onHandDelta {
                products[sku]!.onHand += delta
                sold[sku]! -= delta
            }
            for (sku, product) in products {
                #expect(product.available >= 0 && product.reserved >= 0, "\(sku) after \(event) of order \(order)")
                let held = holdings.values.map { $0[sku] ?? 0 }.reduce(0, +)
                #expect(product.reserved == held, "\(sku): reserved \(product.reserved), held \(held)")
            }
        }
        #expect(products["TEA"]!.onHand == initial - sold["TEA"]!)
    }
}

/// A deterministic generator (SplitMix64), so a failing seed fails again.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
