import Foundation
import MercatoTesting
import Postgres
import Testing

/// Stock end to end, as separate processes over real RabbitMQ and PostgreSQL: concurrent
/// orders for the last units, where exactly as many win as there are units and every loser is
/// cancelled `out_of_stock` (its `orders_count` given back, never invoiced); then a payment
/// sells a reservation and a cancellation releases one.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct StockSystemTests {
    @Test func concurrentOrdersForTheLastUnitsNeverOversell() async throws {
        let system = try await SagaSystemTests.start()
        let sku = "LAST-\(UUID().uuidString.prefix(8))"
        try await system.addProduct(sku: sku, name: "Last teapot", price: "25.00", stock: 5)
        let customers = OrderFlowSystemTests.seeds
        // 24 orders of one unit at once, spread over the customers: the replica cannot refuse
        // them all in time, so catalog-service's reservation decides.
        // Each answer: the status, the order's id (201) or the error's code.
        let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for index in 0..<24 {
                group.addTask {
                    let (status, body) = try await system.placeOrder(
                        customer: customers[index % customers.count], lines: [["sku": sku, "quantity": 1]])
                    return (status, body["id"] as? String ?? (body["error"] as? [String: Any])?["code"] as? String)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.allSatisfy { [201, 409].contains($0.0) }, "\(answers)")
        let accepted = answers.filter { $0.0 == 201 }.compactMap(\.1)
        #expect(accepted.count >= 5, "at least the five that fit were accepted")
        #expect(answers.filter { $0.0 == 409 }.allSatisfy { $0.1 == "out_of_stock" }, "\(answers)")

        // Quiet: every accepted order is either reserved (and invoiced) or cancelled for stock.
        var states: [String: Int] = [:]
        try await system.eventually("every accepted order is invoiced or cancelled out_of_stock") {
            states = try await Self.outcomes(of: accepted, on: system)
            return states["invoiced", default: 0] + states["cancelled:out_of_stock", default: 0] == accepted.count
        }
        #expect(states["invoiced"] == 5, "exactly the five units were sold: \(states)")
        var product = try await Self.product(sku, on: system)
        #expect(product.onHand == 5 && product.reserved == 5 && product.available == 0, "\(product)")
        let invoiced = try await system.database(.invoice).query(
            "SELECT count(*) FROM invoices WHERE order_id = ANY($1::uuid[])", accepted.compactMap(UUID.init))[0]
            .decode(Int.self, at: 0)
        #expect(invoiced == 5, "no order cancelled for stock was invoiced")
        // orders_count counts the winners only: the losers' cancellations gave theirs back.
        try await system.eventually("orders_count matches the orders not cancelled") {
            let counted = try await system.database(.customer).query(
                "SELECT coalesce(sum(orders_count), 0)::int FROM customers")[0].decode(Int.self, at: 0)
            let live = try await system.database(.order).query(
                "SELECT count(*)::int FROM orders WHERE status <> 'cancelled'")[0].decode(Int.self, at: 0)
            return counted == live
        }

        // A payment sells one reservation; a cancellation gives another back.
        let winners = try await Self.winners(of: accepted, on: system)
        let (invoice, total) = try await Self.invoice(of: winners[0], on: system)
        let (paid, body) = try await system.pay(invoice, amount: total, key: "stock-\(winners[0])")
        #expect(paid == 201, "\(String(describing: body))")
        let (cancelled, _) = try await system.request(.order, "POST", "/orders/\(winners[1])/cancel")
        #expect(cancelled == 200)
        try await system.eventually("the sale and the release reach the stock") {
            product = try await Self.product(sku, on: system)
            return product.onHand == 4 && product.reserved == 3
        }
        #expect(product.available == 1)
        // order-service's replica hears of it (product.updated) and takes orders for the unit.
        try await system.eventually("the replica sees the released unit") {
            try await system.placeOrder(customer: customers[0], lines: [["sku": sku, "quantity": 1]]).0 == 201
        }
        try await system.eventually("the new order holds the released unit") {
            product = try await Self.product(sku, on: system)
            return product.reserved == 4
        }
        #expect(product.onHand == 4 && product.available == 0)
        let audit = try await system.drain(accepted: Set(accepted.compactMap(UUID.init)))
        #expect(audit.clean && audit.oversold == 0, "\(audit)")
        await system.shutdown()
    }

    /// A product that falls to its reorder point is bought from the (simulated) supplier once,
    /// delivered in two parts into stock, announced (`stock.replenished`) and shown on the live
    /// page's stock; the audit balances its books afterwards.
    @Test func aProductRunningLowIsReplenishedFromTheSupplier() async throws {
        let system = try await SagaSystemTests.start([
            "SUPPLIER_DELIVERY_MS": "300", "REPLENISH_INTERVAL_MS": "100", "SUPPLIER_LATENCY_MS": "0",
        ])
        let sku = "LOW-\(UUID().uuidString.prefix(8))"
        try await system.addProduct(
            sku: sku, name: "Low teapot", price: "25.00", stock: 3, reorderPoint: 1, reorderQuantity: 10)
        var accepted: [UUID] = []
        for customer in OrderFlowSystemTests.seeds.prefix(2) {
            let (status, body) = try await system.placeOrder(customer: customer, lines: [["sku": sku, "quantity": 1]])
            #expect(status == 201, "\(body)")
            accepted += [(body["id"] as? String).flatMap(UUID.init(uuidString:))].compactMap { $0 }
        }
        var product = Stock(onHand: 0, reserved: 0)
        try await system.eventually("the supplier's delivery is on hand") {
            product = try await Self.product(sku, on: system)
            return product.onHand == 13
        }
        #expect(product.reserved == 2)
        let (_, page) = try await system.request(.catalog, "GET", "/purchase-orders?limit=100")
        let orders = ((page as? [String: Any])?["data"] as? [[String: Any]] ?? []).filter {
            $0["sku"] as? String == sku
        }
        #expect(orders.count == 1, "one purchase order, however many orders took it low: \(orders)")
        #expect(orders.first?["state"] as? String == "received" && orders.first?["received"] as? Int == 10)
        try await system.eventually("the live page's stock shows the delivery") {
            let (_, stock) = try await system.request(.order, "GET", "/stock")
            let level = ((stock as? [String: Any])?["products"] as? [[String: Any]])?.first {
                $0["sku"] as? String == sku
            }
            return level?["replenished"] as? Int == 10 && level?["available"] as? Int == 11
                && level?["on_order"] as? Int == 0
        }
        let audit = try await system.drain(accepted: Set(accepted))
        #expect(audit.clean && audit.oversold == 0, "\(audit)")
        await system.shutdown()
    }

    /// Each order's status, with the reason for a cancelled one (`cancelled:out_of_stock`).
    static func outcomes(of ids: [String], on system: MercatoSystem) async throws -> [String: Int] {
        var outcomes: [String: Int] = [:]
        for row in try await system.database(.order).query(
            "SELECT status, cancel_reason FROM orders WHERE id = ANY($1::uuid[])", ids.compactMap(UUID.init))
        {
            let status = try row.decode(String.self, at: 0)
            let reason = try row.decode(String?.self, at: 1)
            outcomes[status == "cancelled" ? "cancelled:\(reason ?? "")" : status, default: 0] += 1
        }
        return outcomes
    }

    static func winners(of ids: [String], on system: MercatoSystem) async throws -> [String] {
        try await system.database(.order).query(
            "SELECT id FROM orders WHERE id = ANY($1::uuid[]) AND status = 'invoiced' ORDER BY id",
            ids.compactMap(UUID.init)
        ).map { try $0.decode(UUID.self, at: 0).uuidString.lowercased() }
    }

    static func invoice(of order: String, on system: MercatoSystem) async throws -> (id: String, total: String) {
        let (_, page) = try await system.request(.invoice, "GET", "/invoices?order_id=\(order)")
        guard let invoice = ((page as? [String: Any])?["data"] as? [[String: Any]])?.first,
            let id = invoice["id"] as? String, let total = invoice["total"] as? String
        else { throw SystemTestFailure("no invoice for order \(order): \(String(describing: page))") }
        return (id, total)
    }

    struct Stock: CustomStringConvertible {
        var onHand: Int
        var reserved: Int
        var available: Int { onHand - reserved }
        var description: String { "on hand \(onHand), reserved \(reserved)" }
    }

    static func product(_ sku: String, on system: MercatoSystem) async throws -> Stock {
        let row = try await system.database(.catalog).query(
            "SELECT on_hand, reserved FROM products WHERE sku = $1", sku)[0]
        return Stock(onHand: try row.decode(Int.self, at: 0), reserved: try row.decode(Int.self, at: 1))
    }
}
