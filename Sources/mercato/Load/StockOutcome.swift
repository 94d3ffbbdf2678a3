import Foundation
import Locking
import NIOHTTP1

/// `mercato load --scarce`: which accepted orders lost the race for the scarce product (the
/// catalog cancelled them `out_of_stock`), and whether the catalog's stock of it agrees with
/// the orders that won it — never more units promised or sold than there were.
struct StockOutcome: Sendable {
    /// Orders the catalog cancelled `out_of_stock`.
    var rejected: Set<String> = []
    /// Orders still waiting for the catalog's decision at the deadline.
    var undecided = 0

    /// Waits until the catalog has decided each of `orders` (invoiced: it holds its unit;
    /// cancelled `out_of_stock`: it lost), or `deadline` passes.
    static func resolve(
        _ orders: [LoadRecorder.Accepted], orders service: HTTPConnection, clients: Int,
        deadline: ContinuousClock.Instant
    ) async throws -> StockOutcome {
        var outcome = StockOutcome()
        var pending = orders
        while !pending.isEmpty, ContinuousClock.now < deadline {
            let undecided = Locked<[LoadRecorder.Accepted]>([])
            let lost = Locked<Set<String>>([])
            try await LoadCheck.parallel(pending, connections: clients, service: service) { order, send in
                let json = try await send(.GET, "/orders/\(order.orderID)", nil).json()
                switch json?["status"] as? String {
                case "cancelled" where json?["cancel_reason"] as? String == "out_of_stock":
                    lost.withLock { _ = $0.insert(order.orderID) }
                case "invoiced", "paid", "cancelled": break
                default: undecided.withLock { $0.append(order) }
                }
            }
            outcome.rejected.formUnion(lost.withLock { $0 })
            pending = undecided.withLock { $0 }
            if !pending.isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        }
        outcome.undecided = pending.count
        return outcome
    }

    /// What is wrong with the scarce product's stock once the run has settled: the orders
    /// that won it (`winners`, in their final `states`: paid bought their unit, cancelled gave
    /// it back, the rest hold it) must be exactly what the catalog says is sold and reserved.
    func check(
        _ sku: String, units: Int, winners: [LoadRecorder.Accepted], states: [String: String],
        catalog: HTTPConnection, deadline: ContinuousClock.Instant
    ) async throws -> [String] {
        var problems: [String] = []
        if undecided > 0 { problems.append("\(undecided) orders of \(sku) were neither reserved nor rejected") }
        if winners.count > units { problems.append("\(winners.count) orders won \(units) units of \(sku): oversold") }
        let sold = winners.filter { states[$0.orderID] == "paid" }.count
        let holding = winners.filter { states[$0.orderID] == nil }.count
        var seen = "nothing"
        // The sales and releases reach the catalog through its queues: wait for them.
        repeat {
            let (onHand, reserved) = try await catalog.withConnection { send -> (Int?, Int?) in
                let product = try await send(.GET, "/products/\(sku)", nil).json()
                return (product?["stock_on_hand"] as? Int, product?["reserved"] as? Int)
            }
            if onHand == units - sold && reserved == holding { return problems }
            seen = "\(onHand.map(String.init) ?? "?") on hand, \(reserved.map(String.init) ?? "?") reserved"
            try await Task.sleep(for: .milliseconds(250))
        } while ContinuousClock.now < deadline
        problems.append(
            "\(sku): catalog-service has \(seen); its \(winners.count) winning orders make \(units - sold) on hand, \(holding) reserved"
        )
        return problems
    }
}
