import Contracts
import Foundation
import Locking
import Logging
import ServiceKit
import ServiceTesting
import Testing

@testable import CatalogService

/// The replenisher's rounds over the in-memory store, against a supplier that fails, hangs and
/// delivers in parts as told: retried with backoff under the same purchase-order id, bounded by
/// the timeout and the breaker, never ordering twice, never receiving more than ordered.
@Suite(.timeLimit(.minutes(1)))
struct ReplenisherTests {
    /// A supplier that answers from a script.
    final class ScriptedSupplier: Supplier {
        struct Script {
            var placeFailures = 0
            var hang = false
            var delivered = 0
            var placed: [UUID] = []
        }
        let script = Locked(Script())

        func place(_ order: PurchaseOrder) async throws {
            if script.withLock({ $0.hang }) { try await Task.sleep(for: .seconds(60)) }
            try script.withLock { script in
                script.placed.append(order.id)
                if script.placeFailures > 0 {
                    script.placeFailures -= 1
                    throw SupplierError("refused")
                }
            }
        }

        func delivered(_ order: PurchaseOrder) async throws -> Int { script.withLock { $0.delivered } }
    }

    let store = MemoryProductStore()
    let supplier = ScriptedSupplier()

    func round(timeout: Duration = .seconds(5), failures: Int = 5) -> ReplenishmentRound {
        var configuration = Replenisher.Configuration()
        configuration.timeout = timeout
        configuration.deliveryPoll = .seconds(1)
        configuration.breaker.failureThreshold = failures
        return ReplenishmentRound(
            store: store, supplier: supplier, configuration: configuration,
            breaker: CircuitBreaker(configuration: configuration.breaker, clock: ContinuousClock()),
            logger: Logger(label: "test"))
    }

    /// A product of 3 that reorders 10 at 2, reserved down to 2: one purchase order opens.
    func lowProduct(at time: Date) async throws -> String {
        _ = try await store.create(
            NewProduct(
                sku: "TEA", name: "Tea", price: Money("2.00")!, stockOnHand: 3, reorderPoint: 2, reorderQuantity: 10),
            at: time, traceparent: nil)
        let order = OrderCreated(
            orderID: UUID(), customerID: UUID(),
            items: [OrderLine(sku: "TEA", productName: "Tea", quantity: 1, unitPrice: Money("2.00")!)],
            total: Money("2.00")!, createdAt: time)
        _ = try await store.apply(
            [StockEvent(reserving: order, event: try IncomingEvent(CloudEvent(source: "/tests", data: order)))],
            at: time)
        return "TEA"
    }

    @Test func aRefusedOrderIsRetriedWithBackoffThenReceivedInParts() async throws {
        let start = Date()
        _ = try await lowProduct(at: start)
        supplier.script.withLock { $0.placeFailures = 2 }
        let round = round()
        try await round.run(at: start, limit: 10)
        var order = try #require(try await store.purchaseOrders(page: PageRequest()).first)
        #expect(order.state == .open && order.attempts == 1)
        #expect(try await round.run(at: start.addingTimeInterval(0.5), limit: 10) == 0, "not before its backoff")
        try await round.run(at: start.addingTimeInterval(1), limit: 10)
        try await round.run(at: start.addingTimeInterval(4), limit: 10)
        order = try #require(try await store.purchaseOrders(page: PageRequest()).first)
        #expect(order.state == .placed && order.attempts == 2)
        #expect(Set(supplier.script.withLock { $0.placed }) == [order.id], "every attempt under the one id")

        supplier.script.withLock { $0.delivered = 5 }
        try await round.run(at: start.addingTimeInterval(10), limit: 10)
        #expect(try await store.product(sku: "TEA")?.onHand == 8)
        supplier.script.withLock { $0.delivered = 10 }
        try await round.run(at: start.addingTimeInterval(20), limit: 10)
        #expect(try await store.product(sku: "TEA")?.onHand == 13)
        #expect(try await store.purchaseOrders(page: PageRequest()).first?.state == .received)
        let replenished = store.outbox.pending.filter { $0.eventType == EventType.stockReplenished.name }
        #expect(replenished.count == 2)
    }

    /// A supplier that never answers costs one timeout per call, and the breaker stops calling
    /// it after `failures` of them: the round ends instead of waiting on every order.
    @Test func aHangingSupplierTimesOutAndOpensTheCircuit() async throws {
        let start = Date()
        _ = try await lowProduct(at: start)
        supplier.script.withLock { $0.hang = true }
        let round = round(timeout: .milliseconds(50), failures: 1)
        try await round.run(at: start, limit: 10)
        let order = try #require(try await store.purchaseOrders(page: PageRequest()).first)
        #expect(order.state == .open && order.attempts == 1 && order.lastError?.contains("no answer") == true)
        #expect(round.breaker.state == .open)
        supplier.script.withLock { $0.hang = false }
        try await round.run(at: start.addingTimeInterval(10), limit: 10)
        #expect(
            try await store.purchaseOrders(page: PageRequest()).first?.state == .open,
            "while the circuit is open nothing is tried")
    }
}
